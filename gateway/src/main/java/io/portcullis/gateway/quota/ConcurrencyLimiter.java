package io.portcullis.gateway.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * In-flight requests per app on this replica, so one app cannot hold the whole PostgreSQL pool. Non-blocking: a
 * request over the cap is refused at once, never queued. Local on purpose even with Redis: the pool it protects is
 * this replica's.
 */
final class ConcurrencyLimiter {

  private final Cache<String, AtomicInteger> inFlight;

  ConcurrencyLimiter(int maxApps) {
    // maintenance on the calling thread: the common ForkJoinPool would be woken every few requests (a context switch)
    this.inFlight = Caffeine.newBuilder().executor(Runnable::run).maximumSize(maxApps).build();
  }

  /** Takes a permit, or returns false when {@code max} requests of the app are already in flight. */
  boolean tryAcquire(String app, int max) {
    AtomicInteger n = counter(app);
    while (true) {
      int now = n.get();
      if (now >= max) {
        return false;
      }
      if (n.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Returns a permit; the caller guarantees once per successful {@link #tryAcquire}. */
  void release(String app) {
    counter(app).decrementAndGet();
  }

  int inFlight(String app) {
    AtomicInteger n = inFlight.getIfPresent(app);
    return n == null ? 0 : n.get();
  }

  private AtomicInteger counter(String app) {
    return inFlight.get(app, a -> new AtomicInteger());
  }
}

package io.portcullis.gateway.token;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the verification work an unauthenticated client address can cause: the verifier caches each refused token,
 * so replays are cheap, but a stream of distinct forged tokens costs a signature check each. Past
 * {@code maxFailures} refusals in a window, an address is answered without verifying until the window ends.
 */
final class InvalidTokenLimiter {

  private final int maxFailures;
  private final Duration window;
  private final Cache<String, AtomicInteger> failures;

  InvalidTokenLimiter(int maxFailures, Duration window) {
    if (maxFailures <= 0) {
      throw new IllegalArgumentException("maxFailures: %s (expected: > 0)".formatted(maxFailures));
    }
    this.maxFailures = maxFailures;
    this.window = window;
    this.failures = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(window).build();
  }

  boolean blocked(String address) {
    AtomicInteger n = failures.getIfPresent(address);
    return n != null && n.get() >= maxFailures;
  }

  void failed(String address) {
    failures.get(address, a -> new AtomicInteger()).incrementAndGet();
  }

  long retryAfterSeconds() {
    return Math.max(1, window.toSeconds());
  }
}

package io.portcullis.gateway.token;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the verification work an unauthenticated client address can cause: the verifier caches each refused token,
 * so replays are cheap, but a stream of distinct forged tokens costs a signature check each. Past
 * {@code maxFailures} refusals in a window (fixed, starting at the address's first refusal), an address is answered
 * without verifying until the window ends.
 */
final class InvalidTokenLimiter {

  private final int maxFailures;
  private final Duration window;
  private final Ticker ticker;
  private final Cache<String, Failures> failures;

  InvalidTokenLimiter(int maxFailures, Duration window) {
    this(maxFailures, window, Ticker.systemTicker());
  }

  InvalidTokenLimiter(int maxFailures, Duration window, Ticker ticker) {
    if (maxFailures <= 0) {
      throw new IllegalArgumentException("maxFailures: %s (expected: > 0)".formatted(maxFailures));
    }
    this.maxFailures = maxFailures;
    this.window = window;
    this.ticker = ticker;
    // written once per window (the counter is mutated in place), so expire-after-write ends the window
    this.failures = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(window).ticker(ticker).build();
  }

  boolean blocked(String address) {
    Failures f = failures.getIfPresent(address);
    return f != null && f.count.get() >= maxFailures;
  }

  void failed(String address) {
    failures.get(address, a -> new Failures(ticker.read())).count.incrementAndGet();
  }

  long retryAfterSeconds() {
    return Math.max(1, window.toSeconds());
  }

  int limit() {
    return maxFailures;
  }

  /** Refusals the address may still cause in its current window before it is blocked. */
  long remaining(String address) {
    Failures f = failures.getIfPresent(address);
    return f == null ? maxFailures : Math.max(0, maxFailures - f.count.get());
  }

  /** Seconds until the address's window ends and its allowance is whole again; 0 without a window. */
  long resetSeconds(String address) {
    Failures f = failures.getIfPresent(address);
    if (f == null) {
      return 0;
    }
    long left = window.toNanos() - (ticker.read() - f.startNanos);
    return left <= 0 ? 0 : (left + 999_999_999L) / 1_000_000_000L;
  }

  private static final class Failures {
    final long startNanos;
    final AtomicInteger count = new AtomicInteger();

    Failures(long startNanos) {
      this.startNanos = startNanos;
    }
  }
}

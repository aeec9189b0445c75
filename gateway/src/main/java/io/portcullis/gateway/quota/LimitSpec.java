package io.portcullis.gateway.quota;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import java.time.Duration;

/**
 * One token bucket's shape: {@code capacity} tokens (the burst), refilled continuously one token every
 * {@code nanosPerToken} (the rate). Part of a limiter's registry key, so a quota change yields a new bucket rather
 * than a bucket with a stale shape.
 */
record LimitSpec(long capacity, long nanosPerToken) {

  LimitSpec {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: %s (expected: >= 1)".formatted(capacity));
    }
    if (nanosPerToken < 1) {
      throw new IllegalArgumentException("nanosPerToken: %s (expected: >= 1)".formatted(nanosPerToken));
    }
  }

  static LimitSpec of(double ratePerSecond, long burst) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("ratePerSecond: %s (expected: > 0)".formatted(ratePerSecond));
    }
    return new LimitSpec(Math.max(1, burst), Math.max(1, Math.round(1e9 / ratePerSecond)));
  }

  double ratePerSecond() {
    return 1e9 / nanosPerToken;
  }

  /** The same bucket scaled down by {@code divisor}: a replica's share of a global limit, a dataset's share of an app's. */
  LimitSpec divided(double divisor) {
    if (divisor <= 1) {
      return this;
    }
    return new LimitSpec(Math.max(1, (long) Math.floor(capacity / divisor)),
        Math.max(1, Math.round(nanosPerToken * divisor)));
  }

  /** Greedy refill of one token per period: a continuous rate, also for fractional rates (0.5 rps). */
  BucketConfiguration configuration() {
    return BucketConfiguration.builder()
        .addLimit(Bandwidth.builder().capacity(capacity).refillGreedy(1, Duration.ofNanos(nanosPerToken)).build())
        .build();
  }

  /** How long an idle bucket takes to fill up again: after that, dropping it loses nothing. */
  Duration timeToFull() {
    return Duration.ofNanos(Math.multiplyExact(capacity, nanosPerToken));
  }
}

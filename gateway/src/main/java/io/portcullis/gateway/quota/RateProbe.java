package io.portcullis.gateway.quota;

import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.EstimationProbe;

/**
 * The outcome of taking one token: whether it was granted, what is left, and how long until a token (refill) and
 * the full bucket (reset) are back — what the RateLimit-* and Retry-After headers report.
 */
record RateProbe(boolean consumed, long limit, long remaining, long nanosToRefill, long nanosToReset) {

  static RateProbe of(ConsumptionProbe probe, LimitSpec spec) {
    return new RateProbe(probe.isConsumed(), spec.capacity(), Math.max(0, probe.getRemainingTokens()),
        probe.isConsumed() ? 0 : probe.getNanosToWaitForRefill(), probe.getNanosToWaitForReset());
  }

  /**
   * The bucket as it stands, nothing taken (a request refused before the quota stage): reported as not refused, with
   * the reset estimated from the missing tokens (bucket4j's estimate does not report it).
   */
  static RateProbe peek(EstimationProbe probe, LimitSpec spec) {
    long remaining = Math.max(0, Math.min(spec.capacity(), probe.getRemainingTokens()));
    long missing = spec.capacity() - remaining;
    long nanosToReset = Math.multiplyHigh(missing, spec.nanosPerToken()) != 0 ? Long.MAX_VALUE
        : missing * spec.nanosPerToken();
    return new RateProbe(true, spec.capacity(), remaining, 0, nanosToReset < 0 ? Long.MAX_VALUE : nanosToReset);
  }

  /**
   * What a bucket would do, nothing taken: {@code consumed} says whether it alone would have granted a token (the
   * other bucket of a pair refused first, so this one was left as it was).
   */
  static RateProbe untaken(EstimationProbe probe, LimitSpec spec) {
    RateProbe p = peek(probe, spec);
    return probe.canBeConsumed() ? p
        : new RateProbe(false, p.limit, p.remaining, probe.getNanosToWaitForRefill(), p.nanosToReset);
  }

  /** A token handed back: the bucket as if it had not been taken. */
  RateProbe givenBack(LimitSpec spec) {
    return new RateProbe(consumed, limit, Math.min(limit, remaining + 1), nanosToRefill,
        Math.max(0, nanosToReset - spec.nanosPerToken()));
  }

  /**
   * Two buckets consulted together (per app, per app × dataset); each probe says whether that bucket alone would have
   * granted the token, and the token was taken from both only when both would.
   */
  record Pair(RateProbe first, RateProbe second) {

    boolean consumed() {
      return first.consumed && second.consumed;
    }
  }

  /** Of two buckets that both applied, the one a client should be told about: refused first, else the emptier. */
  static RateProbe tighter(RateProbe a, RateProbe b) {
    if (a.consumed != b.consumed) {
      return a.consumed ? b : a;
    }
    if (!a.consumed) {
      return a.nanosToRefill >= b.nanosToRefill ? a : b;
    }
    return a.remaining <= b.remaining ? a : b;
  }

  long retryAfterSeconds() {
    return Math.max(1, ceilSeconds(nanosToRefill));
  }

  long resetSeconds() {
    return ceilSeconds(nanosToReset);
  }

  static long ceilSeconds(long nanos) {
    return nanos <= 0 ? 0 : (nanos + 999_999_999L) / 1_000_000_000L;
  }
}

package io.portcullis.gateway.quota;

import reactor.core.publisher.Mono;

/** Where token buckets live: in this process, or in Redis shared by every replica. */
interface RateLimiters extends AutoCloseable {

  /** Takes one token from the bucket {@code key} of shape {@code spec}; never blocks the calling thread. */
  Mono<RateProbe> tryConsume(String key, LimitSpec spec);

  /**
   * Takes one token from each of two buckets, or from neither: a request one bucket refuses does not drain the other
   * (an app hammering an expensive dataset keeps its own rate for the rest). In Redis this is one atomic round trip.
   */
  Mono<RateProbe.Pair> tryConsumeBoth(String key, LimitSpec spec, String otherKey, LimitSpec otherSpec);

  /** The bucket's state without taking a token, for the headers of a request refused before the quota stage. */
  Mono<RateProbe> peek(String key, LimitSpec spec);

  /** True while a shared store is configured but unreachable and this replica enforces only its share locally. */
  default boolean inFallback() {
    return false;
  }

  /** {@code redis} or {@code local}. */
  String mode();

  @Override
  default void close() {
  }
}

package io.portcullis.gateway.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Token buckets in this process (the embedded default, and the fallback while Redis is away). Buckets are looked up
 * in a bounded registry, never built per request; one idle long enough to have refilled is dropped without loss.
 */
final class LocalRateLimiters implements RateLimiters {

  private final Cache<Key, Bucket> buckets;

  LocalRateLimiters(int maxBuckets) {
    // maintenance on the calling thread: the common ForkJoinPool would be woken every few requests (a context switch)
    this.buckets = Caffeine.newBuilder()
        .executor(Runnable::run)
        .maximumSize(maxBuckets)
        .expireAfterAccess(Duration.ofMinutes(10))
        .build();
  }

  @Override
  public Mono<RateProbe> tryConsume(String key, LimitSpec spec) {
    return Mono.just(consumeNow(key, spec));
  }

  RateProbe consumeNow(String key, LimitSpec spec) {
    return RateProbe.of(bucket(key, spec).tryConsumeAndReturnRemaining(1), spec);
  }

  @Override
  public Mono<RateProbe.Pair> tryConsumeBoth(String key, LimitSpec spec, String otherKey, LimitSpec otherSpec) {
    return Mono.just(consumeBothNow(key, spec, otherKey, otherSpec));
  }

  /**
   * Not atomic across the two buckets (each is, on its own): a token taken from the first is handed back when the
   * second refuses, so concurrent requests may briefly see one token less in the first — never more than its limit.
   */
  RateProbe.Pair consumeBothNow(String key, LimitSpec spec, String otherKey, LimitSpec otherSpec) {
    Bucket first = bucket(key, spec);
    Bucket second = bucket(otherKey, otherSpec);
    RateProbe a = RateProbe.of(first.tryConsumeAndReturnRemaining(1), spec);
    if (!a.consumed()) {
      return new RateProbe.Pair(a, RateProbe.untaken(second.estimateAbilityToConsume(1), otherSpec));
    }
    RateProbe b = RateProbe.of(second.tryConsumeAndReturnRemaining(1), otherSpec);
    if (!b.consumed()) {
      first.addTokens(1);
      a = a.givenBack(spec);
    }
    return new RateProbe.Pair(a, b);
  }

  @Override
  public Mono<RateProbe> peek(String key, LimitSpec spec) {
    return Mono.just(RateProbe.peek(bucket(key, spec).estimateAbilityToConsume(1), spec));
  }

  private Bucket bucket(String key, LimitSpec spec) {
    return buckets.get(new Key(key, spec), k -> Bucket.builder().addLimit(
        spec.configuration().getBandwidths()[0]).build());
  }

  @Override
  public String mode() {
    return "local";
  }

  private record Key(String key, LimitSpec spec) {
  }
}

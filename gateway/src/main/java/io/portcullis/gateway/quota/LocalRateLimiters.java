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
    this.buckets = Caffeine.newBuilder()
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

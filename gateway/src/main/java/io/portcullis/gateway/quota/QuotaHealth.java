package io.portcullis.gateway.quota;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health/quota}: UP while limits are enforced — shared through Redis, or locally in fallback (the
 * gateway still serves, with each replica's share of the limits), with the mode in the details.
 */
final class QuotaHealth implements HealthIndicator {

  private final RateLimiters limiters;

  QuotaHealth(RateLimiters limiters) {
    this.limiters = limiters;
  }

  @Override
  public Health health() {
    return Health.up()
        .withDetail("mode", limiters.mode())
        .withDetail("fallback", limiters.inFallback())
        .build();
  }
}

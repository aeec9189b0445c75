package io.portcullis.gateway.quota;

import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.database.SqlScripts;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.r2dbc.spi.ConnectionFactory;
import io.portcullis.broker.RevocationStore;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;

/**
 * The quota stage's beans: limiters (local, or Redis with local fallback), the budget ledger, metrics, the anomaly
 * detector, the stage, and the RateLimit-* headers of requests refused before it.
 */
@Configuration(proxyBeanMethods = false)
class QuotaWiring {

  private static final Logger log = LoggerFactory.getLogger(QuotaWiring.class);

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean(destroyMethod = "close")
  RateLimiters rateLimiters(QuotaProperties properties) {
    if (properties.redisEnabled()) {
      return new RedisRateLimiters(properties.redisUri(), properties.redisTimeout(), properties.replicas(),
          properties.probeInterval(), properties.maxLimiters());
    }
    return new LocalRateLimiters(properties.maxLimiters());
  }

  @Bean(destroyMethod = "close")
  BudgetLedger budgetLedger(ConnectionFactory connections, QuotaProperties properties, AuditPipeline audit,
      SnapshotHolder snapshots) {
    SqlScripts.run(connections, "db/quota-schema.sql").block(STARTUP_TIMEOUT);
    BudgetLedger ledger = new BudgetLedger(connections, properties.flushInterval(), new BudgetWarnings(audit, snapshots));
    ledger.load().block(STARTUP_TIMEOUT);
    ledger.start();
    return ledger;
  }

  @Bean
  QuotaMetrics quotaMetrics(MeterRegistry registry, BudgetLedger ledger, RateLimiters limiters) {
    return new QuotaMetrics(registry, ledger, limiters);
  }

  @Bean
  QuotaHealth quotaHealthIndicator(RateLimiters limiters) {
    return new QuotaHealth(limiters);
  }

  /**
   * The clock of the minute windows and throttle periods: a bean named {@code quotaClock} if there is one (tests move
   * it to cross minutes without waiting), else the system clock.
   */
  @Bean(destroyMethod = "close")
  AnomalyDetector anomalyDetector(QuotaProperties properties, AuditPipeline audit, RevocationStore revocations,
      QuotaMetrics metrics, @Qualifier("quotaClock") ObjectProvider<Clock> clock) {
    return new AnomalyDetector(properties.anomaly(), clock.getIfAvailable(Clock::systemUTC),
        new AnomalyResponses(audit, revocations, metrics), Duration.ofSeconds(1));
  }

  @Bean
  QuotaStage quotaStage(SnapshotHolder snapshots, GovernedPaths governed, QuotaProperties properties,
      RateLimiters limiters, BudgetLedger ledger, QuotaMetrics metrics, AnomalyDetector anomalies) {
    return new QuotaStage(snapshots, governed, properties, limiters, new ConcurrencyLimiter(properties.maxLimiters()),
        ledger, metrics, anomalies);
  }

  @Bean
  RateLimitHeaderStage rateLimitHeaderStage(GovernedPaths governed, QuotaStage quota, QuotaProperties properties,
      Environment environment) {
    if (!properties.enabled()) {
      // quotas off, to measure their cost: fail closed unless someone deliberately runs a benchmark (as the audit does)
      if (!environment.acceptsProfiles(Profiles.of("bench"))) {
        throw new IllegalStateException("portcullis.quota.enabled=false turns rate limits, budgets, concurrency caps "
            + "and anomaly response off and exists only for benchmarks; it is refused unless the 'bench' profile is active");
      }
      log.warn("portcullis.quota.enabled=false: no rate limits, budgets, concurrency caps or anomaly response "
          + "(bench profile)");
    }
    return new RateLimitHeaderStage(governed, quota, properties.enabled());
  }
}

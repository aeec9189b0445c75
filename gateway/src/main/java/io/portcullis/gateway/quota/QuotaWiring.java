package io.portcullis.gateway.quota;

import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.database.SqlScripts;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The quota stage's beans: limiters (local, or Redis with local fallback), the budget ledger, metrics, the stage. */
@Configuration(proxyBeanMethods = false)
class QuotaWiring {

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

  @Bean
  QuotaStage quotaStage(SnapshotHolder snapshots, GovernedPaths governed, QuotaProperties properties,
      RateLimiters limiters, BudgetLedger ledger, QuotaMetrics metrics) {
    return new QuotaStage(snapshots, governed, properties, limiters, new ConcurrencyLimiter(properties.maxLimiters()),
        ledger, metrics);
  }
}

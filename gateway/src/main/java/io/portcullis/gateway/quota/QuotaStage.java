package io.portcullis.gateway.quota;

import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.gateway.pipeline.QueryEstimate;
import io.portcullis.gateway.pipeline.RateLimitHeaders;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.pipeline.StageOrder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.Budget;
import io.portcullis.policy.model.BudgetPeriod;
import io.portcullis.policy.model.Quota;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Stage 3 (DESIGN.md §1, §2 Quota): rate buckets per app and per app × dataset, the app's budget for the current
 * period, and its concurrency cap, in that order; the request's cost is charged to the budget when the response
 * completes (or fails, or is cancelled). Every request that reaches this stage carries {@code RateLimit-Limit},
 * {@code RateLimit-Remaining} and {@code RateLimit-Reset} (draft-ietf-httpapi-ratelimit-headers: the bucket's
 * capacity, the tokens left, seconds until it is full again), whatever its final status.
 *
 * <p>The app × dataset bucket gives an expensive dataset (cost weight w &gt; 1) 1/w of the app's rate and burst; for
 * weight ≤ 1 it could never refuse before the app's own bucket, so it is not consulted. Both buckets are taken from
 * together or not at all, in one bucket operation: one Redis round trip per request either way.
 */
final class QuotaStage implements WebFilter, Ordered {

  static final String BUDGET = "Portcullis-Budget";

  /** Spend of apps without a budget is still attributed to their cost centre, per UTC day. */
  private static final Budget ATTRIBUTION_ONLY = new Budget(BudgetPeriod.DAY, 0, 100, "UTC");

  private final SnapshotHolder snapshots;
  private final GovernedPaths governed;
  private final QuotaProperties properties;
  private final RateLimiters limiters;
  private final ConcurrencyLimiter concurrency;
  private final BudgetLedger ledger;
  private final QuotaMetrics metrics;
  private final AnomalyDetector anomalies;
  /** Per app, its limits as derived from the app model they were computed from (identity: a reload recomputes). */
  private final Map<String, Limits> limits = new ConcurrentHashMap<>();

  QuotaStage(SnapshotHolder snapshots, GovernedPaths governed, QuotaProperties properties, RateLimiters limiters,
      ConcurrencyLimiter concurrency, BudgetLedger ledger, QuotaMetrics metrics, AnomalyDetector anomalies) {
    this.snapshots = snapshots;
    this.governed = governed;
    this.properties = properties;
    this.limiters = limiters;
    this.concurrency = concurrency;
    this.ledger = ledger;
    this.metrics = metrics;
    this.anomalies = anomalies;
  }

  @Override
  public int getOrder() {
    return StageOrder.QUOTA;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (!properties.enabled() || !governed.isGoverned(exchange)) {
      return chain.filter(exchange);
    }
    RequestContext ctx = RequestContext.of(exchange);
    TokenClaims claims = ctx.claims();
    Decision decision = ctx.decision();
    if (claims == null || decision == null || !decision.allowed()) {
      // the token and policy stages refuse these before this stage runs
      return chain.filter(exchange);
    }
    Limits app = limits(claims);
    double weight = Double.isFinite(decision.costWeight()) && decision.costWeight() > 0 ? decision.costWeight() : 1;
    String dataset = ctx.dataset();
    AnomalyDetector.Throttle throttle = anomalies.throttle(app.id);
    if (throttle != null) {
      // the app's lowered rate replaces its buckets until the throttle ends (a bucket of its own: it starts full
      // with the lowered burst, and the app's usual bucket is not drained meanwhile)
      return limiters.tryConsume(app.bucketKey + "|anomaly", throttle.applyTo(app.rate))
          .flatMap(probe -> admit(exchange, chain, ctx, app, weight, probe, QuotaMetrics.Reason.ANOMALY));
    }
    if (weight > 1 && dataset != null) {
      LimitSpec datasetRate = app.rate.divided(weight);
      return limiters.tryConsumeBoth(app.bucketKey, app.rate, app.bucketKey + '|' + dataset, datasetRate)
          .flatMap(probes -> admit(exchange, chain, ctx, app, weight,
              RateProbe.tighter(probes.first(), probes.second()),
              probes.first().consumed() ? QuotaMetrics.Reason.DATASET_RATE : QuotaMetrics.Reason.RATE));
    }
    return limiters.tryConsume(app.bucketKey, app.rate).flatMap(probe -> admit(exchange, chain, ctx, app, weight, probe, QuotaMetrics.Reason.RATE));
  }

  private Mono<Void> admit(ServerWebExchange exchange, WebFilterChain chain, RequestContext ctx, Limits app,
      double weight, RateProbe probe, QuotaMetrics.Reason rateReason) {
    HttpHeaders headers = exchange.getResponse().getHeaders();
    RateLimitHeaders.set(headers, probe.limit(), probe.remaining(), probe.resetSeconds());
    if (!probe.consumed()) {
      metrics.throttled(app.id, rateReason);
      if (rateReason == QuotaMetrics.Reason.ANOMALY) {
        AnomalyDetector.Throttle t = anomalies.throttle(app.id);
        return Mono.error(new ProblemException(ProblemCode.RATE_LIMITED,
            "app " + app.id + " is throttled to " + format(probe.limit()) + " burst, "
                + format(t == null ? app.rate.ratePerSecond() : t.applyTo(app.rate).ratePerSecond())
                + " requests/s after an anomaly in the data it was returned"
                + (t == null ? "" : " (until " + java.time.Instant.ofEpochMilli(t.untilMillis()) + ")"),
            null, List.of(), Map.of(HttpHeaders.RETRY_AFTER, Long.toString(probe.retryAfterSeconds()))));
      }
      String scope = rateReason == QuotaMetrics.Reason.RATE ? "app " + app.id : "app " + app.id + " on " + ctx.dataset();
      return Mono.error(new ProblemException(ProblemCode.RATE_LIMITED,
          "rate limit of " + rate(probe, app, weight, rateReason) + " requests/s for " + scope + " exceeded", null,
          List.of(), Map.of(HttpHeaders.RETRY_AFTER, Long.toString(probe.retryAfterSeconds()))));
    }
    long now = System.currentTimeMillis();
    Budget budget = app.budget != null ? app.budget : ATTRIBUTION_ONLY;
    BudgetLedger.Entry spend = ledger.entry(app.id, budget.period(), app.zone, app.costCenter, now);
    metrics.budgetTracked(app.id);
    if (app.budget != null) {
      long limit = app.budget.units();
      spend.limit = limit;
      double used = spend.used();
      if (used >= limit) {
        metrics.throttled(app.id, QuotaMetrics.Reason.BUDGET);
        long retry = Math.max(1, (spend.endMillis - now + 999) / 1000);
        return Mono.error(new ProblemException(ProblemCode.BUDGET_EXHAUSTED,
            "budget of " + limit + " cost units per " + app.budget.period().yamlName() + " exhausted (used "
                + format(used) + "); it renews at " + spend.end, null, List.of(),
            Map.of(HttpHeaders.RETRY_AFTER, Long.toString(retry))));
      }
      if (used * 100 >= (double) limit * app.budget.softPercent()) {
        headers.set(BUDGET, "warning; used=" + format(used) + "; limit=" + limit);
        spend.softReached = true;
      }
    }
    metrics.concurrencyTracked(app.id, concurrency);
    if (!concurrency.tryAcquire(app.id, app.concurrency)) {
      metrics.throttled(app.id, QuotaMetrics.Reason.CONCURRENCY);
      return Mono.error(new ProblemException(ProblemCode.RATE_LIMITED,
          "concurrency limit of " + app.concurrency + " in-flight requests for app " + app.id + " reached", null,
          List.of(), Map.of(HttpHeaders.RETRY_AFTER, "1")));
    }
    if (app.budget != null) {
      ctx.estimateCheck(new EstimateBudgetCheck(app, spend, weight));
    }
    Completion done = new Completion(ctx, app, spend, weight);
    // a completed response's audit event is built before its last bytes go out, ahead of doOnTerminate: it runs the
    // hook first; doOnTerminate / doOnCancel cover the rest, and reach here before the lifecycle stage's doFinally
    ctx.beforeAudit(done);
    return chain.filter(exchange).doOnTerminate(done).doOnCancel(done);
  }

  /**
   * The app's bucket as this request would find it, nothing taken: the RateLimit-* headers of a request refused
   * before this stage ({@link RateLimitHeaderStage}). The app's own bucket (or its anomaly throttle) is the limit
   * every request of the app meets, so that is the one reported.
   */
  Mono<RateProbe> peek(TokenClaims claims) {
    Limits app = limits(claims);
    AnomalyDetector.Throttle throttle = anomalies.throttle(app.id);
    return throttle != null ? limiters.peek(app.bucketKey + "|anomaly", throttle.applyTo(app.rate))
        : limiters.peek(app.bucketKey, app.rate);
  }

  private static String rate(RateProbe probe, Limits app, double weight, QuotaMetrics.Reason reason) {
    double r = reason == QuotaMetrics.Reason.RATE ? app.rate.ratePerSecond() : app.rate.divided(weight).ratePerSecond();
    return format(r);
  }

  static String format(double value) {
    return BigDecimal.valueOf(value).setScale(2, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
  }

  private Limits limits(TokenClaims claims) {
    String id = claims.clientId();
    App model = snapshots.current().app(id);
    Limits l = limits.get(id);
    if (l == null || l.model != model) {
      l = Limits.of(id, model, claims.tier(), properties);
      limits.put(id, l);
    }
    return l;
  }

  /**
   * The budget's pre-execution check: a read whose estimated cost (the connector's planner estimate of its rows and
   * bytes, priced like the actual cost) would overrun the hard limit is refused before it runs, not charged after.
   */
  private final class EstimateBudgetCheck implements RequestContext.EstimateCheck {

    private final Limits app;
    private final BudgetLedger.Entry spend;
    private final double weight;

    EstimateBudgetCheck(Limits app, BudgetLedger.Entry spend, double weight) {
      this.app = app;
      this.spend = spend;
      this.weight = weight;
    }

    @Override
    public void check(QueryEstimate estimate) {
      Budget budget = app.budget;
      if (budget == null) {
        return;
      }
      double units = properties.cost().of(Math.round(estimate.rows()), Math.round(estimate.bytes()), weight);
      double used = spend.used();
      if (used + units > budget.units()) {
        metrics.throttled(app.id, QuotaMetrics.Reason.BUDGET);
        long retry = Math.max(1, (spend.endMillis - System.currentTimeMillis() + 999) / 1000);
        throw new ProblemException(ProblemCode.BUDGET_EXHAUSTED,
            "the read's estimated cost of " + format(units) + " units would overrun the budget of " + budget.units()
                + " cost units per " + budget.period().yamlName() + " (used " + format(used) + "); narrow it, or wait"
                + " until it renews at " + spend.end, null, List.of(),
            Map.of(HttpHeaders.RETRY_AFTER, Long.toString(retry)));
      }
    }
  }

  /** Releases the concurrency permit and charges the cost, exactly once, on completion, error or cancel. */
  private final class Completion implements Runnable {

    private final AtomicBoolean done = new AtomicBoolean();
    private final RequestContext ctx;
    private final Limits app;
    private final BudgetLedger.Entry spend;
    private final double weight;

    Completion(RequestContext ctx, Limits app, BudgetLedger.Entry spend, double weight) {
      this.ctx = ctx;
      this.app = app;
      this.spend = spend;
      this.weight = weight;
    }

    @Override
    public void run() {
      if (done.compareAndSet(false, true)) {
        concurrency.release(app.id);
        double cost = properties.cost().of(ctx.rows(), ctx.bytes(), weight);
        ctx.costUnits(cost);
        ledger.charge(spend, cost);
        anomalies.record(app.id, app.tier, app.costCenter, ctx.rows(), ctx.bytes());
      }
    }
  }

  /** An app's limits, derived once per app model. */
  private record Limits(String id, @Nullable App model, int tier, String bucketKey, LimitSpec rate, int concurrency,
      @Nullable Budget budget, ZoneId zone, String costCenter) {

    static Limits of(String id, @Nullable App model, int tokenTier, QuotaProperties properties) {
      Quota quota = model == null ? null : model.quota();
      int tier = model == null ? tokenTier : model.tier();
      QuotaProperties.TierLimit defaults = properties.tier(tier);
      LimitSpec rate = quota == null ? LimitSpec.of(defaults.ratePerSecond(), defaults.burst())
          : LimitSpec.of(quota.ratePerSecond(), quota.burst());
      int concurrency = quota == null ? defaults.concurrency() : quota.concurrency();
      Budget budget = quota == null ? null : quota.budget();
      ZoneId zone = budget == null ? ZoneOffset.UTC : ZoneId.of(budget.zone());
      return new Limits(id, model, tier, "app:" + id, rate, concurrency, budget, zone,
          model == null ? "" : model.costCenter());
    }
  }
}

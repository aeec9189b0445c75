package io.portcullis.gateway.pipeline;

import io.portcullis.policy.Decision;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.Dataset;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.springframework.web.server.ServerWebExchange;

/**
 * What the stages learn about one request, read by the lifecycle stage to write its audit event. One instance per
 * request, confined to that request's reactive chain (stages run one after another), so plain fields suffice.
 */
public final class RequestContext {

  private static final String ATTRIBUTE = RequestContext.class.getName();

  private final String requestId;
  private final long startNanos;
  private final String clientIp;
  private @Nullable TokenClaims claims;
  private @Nullable String dataset;
  private @Nullable String resourceId;
  private @Nullable Action action;
  private @Nullable Decision decision;
  private @Nullable Dataset datasetModel;
  private @Nullable String queryFingerprint;
  private long rows;
  private long bytes;
  private double costUnits;
  private @Nullable Runnable beforeAudit;
  private final AtomicBoolean audited = new AtomicBoolean();
  private @Nullable QueryEstimate estimate;
  private @Nullable EstimateCheck estimateCheck;

  RequestContext(String requestId, long startNanos, String clientIp) {
    this.requestId = requestId;
    this.startNanos = startNanos;
    this.clientIp = clientIp;
  }

  public static RequestContext attach(ServerWebExchange exchange, String requestId, String clientIp) {
    RequestContext ctx = new RequestContext(requestId, System.nanoTime(), clientIp);
    exchange.getAttributes().put(ATTRIBUTE, ctx);
    return ctx;
  }

  /** The context of a governed request; the lifecycle stage attached it before any other stage ran. */
  public static RequestContext of(ServerWebExchange exchange) {
    RequestContext ctx = exchange.getAttribute(ATTRIBUTE);
    if (ctx == null) {
      throw new IllegalStateException("no RequestContext: the lifecycle stage did not run for " + exchange.getRequest().getPath());
    }
    return ctx;
  }

  public String requestId() {
    return requestId;
  }

  public long startNanos() {
    return startNanos;
  }

  public String clientIp() {
    return clientIp;
  }

  public @Nullable TokenClaims claims() {
    return claims;
  }

  public void claims(TokenClaims claims) {
    this.claims = claims;
  }

  public @Nullable String dataset() {
    return dataset;
  }

  public @Nullable String resourceId() {
    return resourceId;
  }

  public @Nullable Action action() {
    return action;
  }

  public void target(String dataset, @Nullable String resourceId, Action action) {
    this.dataset = dataset;
    this.resourceId = resourceId;
    this.action = action;
  }

  public @Nullable Decision decision() {
    return decision;
  }

  /** The decision, and the dataset model from the same snapshot (a config swap mid-request cannot mix the two). */
  public void decision(Decision decision, @Nullable Dataset datasetModel) {
    this.decision = decision;
    this.datasetModel = datasetModel;
  }

  public @Nullable Dataset datasetModel() {
    return datasetModel;
  }

  public @Nullable String queryFingerprint() {
    return queryFingerprint;
  }

  public void queryFingerprint(String fingerprint) {
    this.queryFingerprint = fingerprint;
  }

  public long rows() {
    return rows;
  }

  public void addRow(long rowBytes) {
    rows++;
    bytes += rowBytes;
  }

  /** A chunk of rows at once (the connector counts per chunk, not per row). */
  public void addRows(long n, long rowBytes) {
    rows += n;
    bytes += rowBytes;
  }

  public void addBytes(long n) {
    bytes += n;
  }

  public long bytes() {
    return bytes;
  }

  /**
   * A stage's veto on a read's estimated cost, run by the connector before the read starts (the quota stage's budget
   * check: an estimate that would overrun the hard limit is refused).
   */
  @FunctionalInterface
  public interface EstimateCheck {
    /** Throws the request's {@code ProblemException} when the read must not run. */
    void check(QueryEstimate estimate);
  }

  public void estimateCheck(EstimateCheck check) {
    this.estimateCheck = check;
  }

  /** Whether a stage wants the read's estimate (the connector then estimates even without a cost limit). */
  public boolean wantsEstimate() {
    return estimateCheck != null;
  }

  /** Records the connector's pre-execution estimate and lets the stages veto it. */
  public void admitEstimate(QueryEstimate estimate) {
    this.estimate = estimate;
    EstimateCheck check = estimateCheck;
    if (check != null) {
      check.check(estimate);
    }
  }

  public @Nullable QueryEstimate estimate() {
    return estimate;
  }

  public double costUnits() {
    return costUnits;
  }

  public void costUnits(double units) {
    this.costUnits = units;
  }

  /**
   * Runs just before the audit event is built, which can be before the inner stages see their chain terminate (the
   * event is journaled before the response's last bytes go out): the quota stage settles the request's cost here.
   * Must be idempotent; one hook per request.
   */
  public void beforeAudit(Runnable hook) {
    this.beforeAudit = hook;
  }

  void runBeforeAudit() {
    Runnable hook = beforeAudit;
    if (hook != null) {
      hook.run();
    }
  }

  /** True exactly once: for whoever records the request's one audit event (response completion or termination). */
  boolean claimAudit() {
    return audited.compareAndSet(false, true);
  }
}

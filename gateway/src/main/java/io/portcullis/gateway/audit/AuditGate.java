package io.portcullis.gateway.audit;

import io.portcullis.audit.AuditPipeline;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.TokenClaims;
import org.jspecify.annotations.Nullable;

/**
 * Tier-2 traffic fails closed when its audit event cannot be persisted (DESIGN.md §7): asked by the policy stage
 * once a request is allowed, before it touches data. Tiers 0 and 1 always proceed (their events wait in memory and
 * are retried). A lookup of one volatile flag: nothing on the hot path.
 */
public final class AuditGate {

  /** Tokens of this tier and above need a persistable audit. */
  static final int FAIL_CLOSED_TIER = 2;

  private static final ProblemException UNAVAILABLE = new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE,
      "audit unavailable: tier-2 requests are refused until audit events can be persisted again");

  private final AuditPipeline pipeline;

  public AuditGate(AuditPipeline pipeline) {
    this.pipeline = pipeline;
  }

  /** The refusal for this token now, or null when the request may go on. */
  public @Nullable ProblemException refusal(TokenClaims claims) {
    return claims.tier() >= FAIL_CLOSED_TIER && !pipeline.canPersist() ? UNAVAILABLE : null;
  }

  static boolean needsDurable(@Nullable Integer tier) {
    return tier != null && tier >= FAIL_CLOSED_TIER;
  }
}

package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.policy.TokenClaims;
import java.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * Every admin action is one {@code admin_change} audit event (DESIGN.md §7, §8): who (the admin's {@code sub}, or
 * {@code portcullis-lifecycle} for the scheduled review check), what ({@code action} on {@code resource_type}/
 * {@code resource_id}) and, for config changes, the version it produced ({@code policy_version}). The reason is kept
 * with the change itself (config version, change request, pause record).
 */
final class AdminAudit {

  static final String LIFECYCLE_ACTOR = "portcullis-lifecycle";

  private final AuditPipeline audit;
  private final Clock clock;

  AdminAudit(AuditPipeline audit, Clock clock) {
    this.audit = audit;
    this.clock = clock;
  }

  void record(TokenClaims admin, String resourceType, String resourceId, String action, @Nullable Long version) {
    audit.emit(AuditEvent.builder()
        .timestamp(clock.instant())
        .eventType(EventType.ADMIN_CHANGE)
        .actorId(admin.subject())
        .actorRole("admin")
        .appId(admin.clientId())
        .tokenId(admin.jti())
        .resourceType(resourceType)
        .resourceId(resourceId)
        .action(action)
        .policyVersion(version)
        .outcome(Outcome.ALLOWED)
        .status(200)
        .build());
  }

  /** An action the gateway takes on its own (review reminders, auto-pause), attributed to the app it concerns. */
  void system(String appId, int tier, String action) {
    audit.emit(AuditEvent.builder()
        .timestamp(clock.instant())
        .eventType(EventType.ADMIN_CHANGE)
        .actorId(LIFECYCLE_ACTOR)
        .actorRole("system")
        .appId(appId)
        .tier(tier)
        .resourceType("app")
        .resourceId(appId)
        .action(action)
        .outcome(Outcome.ALLOWED)
        .status(200)
        .build());
  }
}

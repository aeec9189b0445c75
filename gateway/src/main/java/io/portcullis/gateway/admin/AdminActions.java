package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.broker.RevocationStore;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.PolicyCompilerService;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.PolicyConfigException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What an admin can change, each change validated first and recorded as an {@code admin_change} audit event with
 * its author and reason.
 */
final class AdminActions {

  private final ConfigStore configs;
  private final PolicyCompilerService compiler;
  private final SnapshotHolder snapshots;
  private final RevocationStore revocations;
  private final TokenBroker broker;
  private final AuditPipeline audit;

  AdminActions(ConfigStore configs, PolicyCompilerService compiler, SnapshotHolder snapshots,
      RevocationStore revocations, TokenBroker broker, AuditPipeline audit) {
    this.configs = configs;
    this.compiler = compiler;
    this.snapshots = snapshots;
    this.revocations = revocations;
    this.broker = broker;
    this.audit = audit;
  }

  /** Validates the YAML by compiling it, stores it as a new version; every instance applies it on NOTIFY. */
  Mono<Long> importConfig(String yaml, TokenClaims admin, String reason) {
    return Mono.fromCallable(() -> compiler.validate(yaml, "request body"))
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(PolicyConfigException.class, AdminActions::invalidConfig)
        .then(configs.append(yaml, admin.subject(), reason))
        .doOnNext(version -> record(admin, "config", String.valueOf(version), "import", reason));
  }

  Mono<Void> pause(String appId, TokenClaims admin, String reason) {
    requireApp(appId);
    return revocations.pauseApp(appId, reason).doOnSuccess(v -> record(admin, "app", appId, "pause", reason));
  }

  Mono<Void> resume(String appId, TokenClaims admin, String reason) {
    requireApp(appId);
    return revocations.resumeApp(appId).doOnSuccess(v -> record(admin, "app", appId, "resume", reason));
  }

  Mono<Void> rotateKeys(TokenClaims admin, String reason) {
    return broker.signingKeyStore().rotateNow().doOnSuccess(v -> record(admin, "signing_key", "active", "rotate", reason));
  }

  private void requireApp(String appId) {
    if (snapshots.current().app(appId) == null) {
      throw new ProblemException(ProblemCode.NOT_FOUND, "no app '" + appId + "'");
    }
  }

  /** The reason is kept with the change itself (config version, pause record); the event names who did what. */
  private void record(TokenClaims admin, String resourceType, String resourceId, String action, @Nullable String reason) {
    audit.emit(AuditEvent.builder()
        .timestamp(Instant.now())
        .eventType(EventType.ADMIN_CHANGE)
        .actorId(admin.subject())
        .actorRole("admin")
        .appId(admin.clientId())
        .tokenId(admin.jti())
        .resourceType(resourceType)
        .resourceId(resourceId)
        .action(action)
        .outcome(Outcome.ALLOWED)
        .status(200)
        .build());
  }

  private static ProblemException invalidConfig(PolicyConfigException e) {
    List<Map<String, String>> violations = e.issues().stream()
        .map(AdminActions::violation)
        .toList();
    return new ProblemException(ProblemCode.INVALID_BODY, e.issues().size() + " problem(s) in the config", null,
        violations, Map.of());
  }

  private static Map<String, String> violation(ConfigIssue issue) {
    return Map.of("pointer", issue.path(), "location", issue.line() + ":" + issue.column(), "message", issue.message());
  }
}

package io.portcullis.gateway.admin;

import io.portcullis.broker.RevocationStore;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.TokenClaims;
import reactor.core.publisher.Mono;

/**
 * Admin actions outside the config versions (pause/resume act on tokens at once, key rotation on the broker), each
 * recorded as an {@code admin_change} audit event.
 */
final class AdminActions {

  private final SnapshotHolder snapshots;
  private final RevocationStore revocations;
  private final TokenBroker broker;
  private final AdminAudit audit;

  AdminActions(SnapshotHolder snapshots, RevocationStore revocations, TokenBroker broker, AdminAudit audit) {
    this.snapshots = snapshots;
    this.revocations = revocations;
    this.broker = broker;
    this.audit = audit;
  }

  Mono<Void> pause(String appId, TokenClaims admin, String reason) {
    requireApp(appId);
    return revocations.pauseApp(appId, reason).doOnSuccess(v -> audit.record(admin, "app", appId, "pause", null));
  }

  Mono<Void> resume(String appId, TokenClaims admin, String reason) {
    requireApp(appId);
    return revocations.resumeApp(appId).doOnSuccess(v -> audit.record(admin, "app", appId, "resume", null));
  }

  Mono<Void> rotateKeys(TokenClaims admin, String reason) {
    if (!signsTokens(broker)) {
      return Mono.error(new ProblemException(ProblemCode.ILLEGAL_TRANSITION, "this gateway only verifies the tokens "
          + "of an external broker (portcullis.broker.jwks-uri): rotate the signing keys on that broker"));
    }
    return broker.signingKeyStore().rotateNow()
        .doOnSuccess(v -> audit.record(admin, "signing_key", "active", "rotate", null));
  }

  /** Whether the broker in this process signs tokens (false: verifier-only, keys fetched from {@code jwks-uri}). */
  static boolean signsTokens(TokenBroker broker) {
    return broker.properties().keyEncryptionKey() != null;
  }

  private void requireApp(String appId) {
    if (snapshots.current().app(appId) == null) {
      throw new ProblemException(ProblemCode.NOT_FOUND, "no app '" + appId + "'");
    }
  }
}

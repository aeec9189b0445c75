package io.portcullis.gateway.audit;

import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.broker.BrokerEvent;
import io.portcullis.broker.BrokerEventListener;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.policy.model.App;
import java.util.ArrayList;

/**
 * Every token issued or revoked, every refused token request (failed client authentication, a scope never granted, an
 * untrusted subject token, {@code slow_down} after repeated failures, a paused client) and every pause/resume becomes
 * an audit event (issue 4). Tokens appear by {@code jti} only; refusals carry the RFC 6749 error as {@code error_code}.
 */
final class BrokerAuditListener implements BrokerEventListener {

  private final AuditPipeline pipeline;
  private final SnapshotHolder snapshots;

  BrokerAuditListener(AuditPipeline pipeline, SnapshotHolder snapshots) {
    this.pipeline = pipeline;
    this.snapshots = snapshots;
  }

  @Override
  public void onEvent(BrokerEvent e) {
    pipeline.emit(toAudit(e));
  }

  AuditEvent toAudit(BrokerEvent e) {
    boolean refusal = e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED || e.type() == BrokerEvent.Type.TOKEN_REFUSED;
    AuditEvent.Builder b = AuditEvent.builder()
        .timestamp(e.time())
        .eventType(switch (e.type()) {
          case TOKEN_ISSUED -> EventType.TOKEN_ISSUED;
          case TOKEN_REVOKED -> EventType.TOKEN_REVOKED;
          case CLIENT_AUTH_FAILED -> EventType.AUTH_FAILED;
          case TOKEN_REFUSED -> EventType.TOKEN_REFUSED;
          case APP_PAUSED -> EventType.APP_PAUSED;
          case APP_RESUMED -> EventType.APP_RESUMED;
        })
        .resourceType(e.type() == BrokerEvent.Type.TOKEN_ISSUED || e.type() == BrokerEvent.Type.TOKEN_REVOKED
            || e.type() == BrokerEvent.Type.TOKEN_REFUSED ? "token" : "app")
        .resourceId(e.jti() != null ? e.jti() : e.clientId())
        .action(switch (e.type()) {
          case TOKEN_ISSUED -> e.grantType() == null ? "issue" : e.grantType();
          case TOKEN_REVOKED -> "revoke";
          case CLIENT_AUTH_FAILED -> "authenticate";
          case TOKEN_REFUSED -> e.grantType() == null ? "token" : e.grantType();
          case APP_PAUSED -> "pause";
          case APP_RESUMED -> "resume";
        })
        .outcome(!refusal ? Outcome.ALLOWED : e.status() == 429 ? Outcome.THROTTLED : Outcome.DENIED)
        .status(refusal ? e.status() : 200)
        .tokenId(e.jti())
        .clientIp(e.remoteAddress());
    if (e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED) {
      // which check failed (unknown_client, client_secret_basic, private_key_jwt, …): what an investigator asks first
      b.errorCode(e.reason() == null ? "invalid_client" : e.reason());
    } else if (e.type() == BrokerEvent.Type.TOKEN_REFUSED) {
      b.errorCode(e.error());
    }
    if (e.clientId() != null) {
      b.appId(e.clientId()).actorId(e.subject() != null ? e.subject() : e.clientId())
          .actorRole(e.subject() != null && !e.subject().equals(e.clientId()) ? "user" : "app");
      App app = snapshots.current().app(e.clientId());
      if (app != null) {
        b.tier(app.tier()).costCenter(app.costCenter());
      }
    }
    if (!e.scopes().isEmpty()) {
      // the granted scopes say what the token may reach: the policy ids of an issuance
      b.policyIds(new ArrayList<>(e.scopes()));
    }
    return b.build();
  }
}

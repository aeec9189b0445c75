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
 * Every token issued or revoked, every failed client authentication and every pause/resume becomes an audit event
 * (issue 4: "every issuance and revocation is an audit event"). Tokens appear by {@code jti} only.
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
    AuditEvent.Builder b = AuditEvent.builder()
        .timestamp(e.time())
        .eventType(switch (e.type()) {
          case TOKEN_ISSUED -> EventType.TOKEN_ISSUED;
          case TOKEN_REVOKED -> EventType.TOKEN_REVOKED;
          case CLIENT_AUTH_FAILED -> EventType.AUTH_FAILED;
          case APP_PAUSED -> EventType.APP_PAUSED;
          case APP_RESUMED -> EventType.APP_RESUMED;
        })
        .resourceType(e.type() == BrokerEvent.Type.TOKEN_ISSUED || e.type() == BrokerEvent.Type.TOKEN_REVOKED
            ? "token" : "app")
        .resourceId(e.jti() != null ? e.jti() : e.clientId())
        .action(switch (e.type()) {
          case TOKEN_ISSUED -> e.grantType() == null ? "issue" : e.grantType();
          case TOKEN_REVOKED -> "revoke";
          case CLIENT_AUTH_FAILED -> "authenticate";
          case APP_PAUSED -> "pause";
          case APP_RESUMED -> "resume";
        })
        .outcome(e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED ? Outcome.DENIED : Outcome.ALLOWED)
        .status(e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED ? 401 : 200)
        .tokenId(e.jti())
        .clientIp(e.remoteAddress());
    if (e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED) {
      b.errorCode(e.reason() == null ? "invalid_client" : e.reason());
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

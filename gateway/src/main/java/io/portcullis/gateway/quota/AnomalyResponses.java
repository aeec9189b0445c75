package io.portcullis.gateway.quota;

import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.broker.RevocationStore;
import java.time.Instant;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a spike triggers besides the throttle the detector keeps: one {@code anomaly} audit event with the evidence
 * (every response), and for {@code pause} the same pause an admin would order — through the broker, so the app's
 * tokens are refused by every gateway and no new ones are issued until an admin resumes it.
 *
 * <p>The audit event has no free-form field, so the evidence goes where a reader of the trail looks: {@code action}
 * is the response, {@code resource_type} {@code anomaly}, {@code resource_id} the evidence as {@code key=value}
 * pairs, {@code rows}/{@code bytes} the minute's totals so far, {@code error_code} {@code anomaly_rows} or
 * {@code anomaly_bytes}.
 */
final class AnomalyResponses implements Consumer<AnomalyDetector.Spike> {

  private static final Logger log = LoggerFactory.getLogger(AnomalyResponses.class);

  private final AuditPipeline audit;
  private final RevocationStore revocations;
  private final QuotaMetrics metrics;

  AnomalyResponses(AuditPipeline audit, RevocationStore revocations, QuotaMetrics metrics) {
    this.audit = audit;
    this.revocations = revocations;
    this.metrics = metrics;
  }

  @Override
  public void accept(AnomalyDetector.Spike spike) {
    String evidence = spike.evidence();
    log.warn("anomaly: app {} {}", spike.app(), evidence);
    metrics.anomaly(spike.app(), spike.response());
    audit.emit(AuditEvent.builder()
        .timestamp(Instant.now())
        .eventType(EventType.ANOMALY)
        .appId(spike.app())
        .actorId(spike.app())
        .actorRole("app")
        .tier(spike.tier())
        .action(spike.response().json())
        .resourceType("anomaly")
        .resourceId(evidence)
        .outcome(switch (spike.response()) {
          case ALERT -> Outcome.ALLOWED;
          case THROTTLE -> Outcome.THROTTLED;
          case PAUSE -> Outcome.DENIED;
        })
        .errorCode("anomaly_" + spike.metric())
        .rows(spike.rows())
        .bytes(spike.bytes())
        .costCenter(spike.costCenter())
        .build());
    if (spike.response() == QuotaProperties.AnomalyResponse.PAUSE) {
      // non-blocking (R2DBC + NOTIFY); the broker records its own app_paused event with this reason
      revocations.pauseApp(spike.app(), "anomaly: " + evidence).subscribe(null,
          e -> log.error("anomaly: pausing app {} failed; it stays active: {}", spike.app(), e.toString()));
    }
  }
}

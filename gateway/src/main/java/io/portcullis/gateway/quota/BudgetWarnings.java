package io.portcullis.gateway.quota;

import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.policy.model.App;
import java.time.Instant;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one {@code budget_warning} audit event of an app's period, when its spend first reaches the soft limit. */
final class BudgetWarnings implements Consumer<BudgetLedger.Entry> {

  private static final Logger log = LoggerFactory.getLogger(BudgetWarnings.class);

  private final AuditPipeline audit;
  private final SnapshotHolder snapshots;

  BudgetWarnings(AuditPipeline audit, SnapshotHolder snapshots) {
    this.audit = audit;
    this.snapshots = snapshots;
  }

  @Override
  public void accept(BudgetLedger.Entry e) {
    App app = snapshots.current().app(e.key.app());
    double used = e.used();
    log.info("app {} reached the soft limit of its {} budget: {} of {} units used (period from {})", e.key.app(),
        e.key.period().yamlName(), QuotaStage.format(used), e.limit, e.key.start());
    AuditEvent.Builder b = AuditEvent.builder()
        .timestamp(Instant.now())
        .eventType(EventType.BUDGET_WARNING)
        .appId(e.key.app())
        .actorId(e.key.app())
        .actorRole("app")
        .action("budget_warning")
        .resourceType("budget")
        .resourceId(e.key.period().yamlName() + ":" + e.key.start())
        .outcome(Outcome.ALLOWED)
        .costUnits(used)
        .costCenter(e.costCenter);
    if (app != null) {
      b.tier(app.tier());
    }
    audit.emit(b.build());
  }
}

package io.portcullis.gateway.admin;

import io.portcullis.broker.RevocationStore;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.AppStatus;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The periodic review check (issue 8 lifecycle): for every active app with a {@code review_due} date it emits a
 * {@code review_reminder} event (from {@code reminderLead} before the date), a {@code review_overdue} event (once
 * past it) — each once per app and day — and pauses the app (tokens refused at once, as an admin's pause) once it is
 * more than {@code grace} past due, once per review date: an admin who resumes it is not overruled until the date
 * changes. Dates are UTC days from the injected clock. Notices are claimed in {@code portcullis.lifecycle_notices}
 * first, so several replicas running the same check act once.
 */
final class ReviewScheduler implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ReviewScheduler.class);

  private final SnapshotHolder snapshots;
  private final RevocationStore revocations;
  private final ConnectionFactory connections;
  private final AdminAudit audit;
  private final LifecycleProperties properties;
  private final Clock clock;
  private volatile Disposable running;

  ReviewScheduler(SnapshotHolder snapshots, RevocationStore revocations, ConnectionFactory connections,
      AdminAudit audit, LifecycleProperties properties, Clock clock) {
    this.snapshots = snapshots;
    this.revocations = revocations;
    this.connections = connections;
    this.audit = audit;
    this.properties = properties;
    this.clock = clock;
  }

  /** One notice given by a check. */
  record Notice(String appId, String kind, LocalDate reviewDue) {
  }

  /** Where an app stands: for the console's review list. */
  Map<String, Object> status(App app, LocalDate today) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("app", app.id());
    m.put("tier", app.tier());
    m.put("status", app.status().yamlName());
    LocalDate due = app.reviewDue();
    m.put("review_due", due == null ? null : due.toString());
    if (due != null) {
      m.put("auto_pause_after", pauseAfter(due).toString());
      m.put("state", !today.isAfter(due) ? (today.isBefore(due.minusDays(leadDays())) ? "ok" : "due_soon")
          : today.isAfter(pauseAfter(due)) ? "auto_paused" : "overdue");
    }
    return m;
  }

  LocalDate today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /** Runs the check for {@code today}; the notices given (already-given ones are not repeated). */
  Mono<List<Notice>> check(LocalDate today) {
    List<App> apps = snapshots.current().config().apps();
    return Flux.fromIterable(apps)
        .filter(a -> a.status() == AppStatus.ACTIVE && a.reviewDue() != null)
        .concatMap(a -> checkApp(a, today))
        .collectList();
  }

  private Mono<Notice> checkApp(App app, LocalDate today) {
    LocalDate due = app.reviewDue();
    if (today.isAfter(pauseAfter(due))) {
      return claim(app.id(), "auto_pause", due)
          .flatMap(claimed -> revocations.pauseApp(app.id(), "review overdue since " + due + " (grace "
                  + properties.grace().toDays() + " days)")
              .then(Mono.fromRunnable(() -> audit.system(app.id(), app.tier(), "auto_pause")))
              .thenReturn(new Notice(app.id(), "auto_pause", due)));
    }
    if (today.isAfter(due)) {
      return claim(app.id(), "review_overdue", today)
          .doOnNext(c -> audit.system(app.id(), app.tier(), "review_overdue"))
          .map(c -> new Notice(app.id(), "review_overdue", due));
    }
    if (!today.isBefore(due.minusDays(leadDays()))) {
      return claim(app.id(), "review_reminder", today)
          .doOnNext(c -> audit.system(app.id(), app.tier(), "review_reminder"))
          .map(c -> new Notice(app.id(), "review_reminder", due));
    }
    return Mono.empty();
  }

  private LocalDate pauseAfter(LocalDate due) {
    return due.plusDays(properties.grace().toDays());
  }

  private long leadDays() {
    return properties.reminderLead().toDays();
  }

  /** True (once) when this notice was not given before. */
  private Mono<Boolean> claim(String appId, String kind, LocalDate day) {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement("INSERT INTO portcullis.lifecycle_notices (app_id, kind, day) "
                    + "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(0, appId).bind(1, kind).bind(2, day).execute()).flatMap(r -> r.getRowsUpdated()),
            c -> c.close())
        .reduce(0L, (a, b) -> a + b.longValue())
        .filter(n -> n > 0)
        .map(n -> true);
  }

  @Override
  public void start() {
    if (!properties.enabled()) {
      return;
    }
    running = Flux.interval(properties.checkInterval().dividedBy(10), properties.checkInterval())
        .onBackpressureDrop()
        .concatMap(t -> check(today()).onErrorResume(e -> {
          log.warn("app review check failed: {}", e.toString());
          return Mono.empty();
        }))
        .subscribe(notices -> {
          if (!notices.isEmpty()) {
            log.info("app review check: {}", notices);
          }
        });
  }

  @Override
  public void stop() {
    Disposable d = running;
    if (d != null) {
      d.dispose();
      running = null;
    }
  }

  @Override
  public boolean isRunning() {
    return running != null;
  }

  List<Map<String, Object>> statuses() {
    LocalDate today = today();
    List<Map<String, Object>> out = new ArrayList<>();
    for (App a : snapshots.current().config().apps()) {
      out.add(status(a, today));
    }
    return out;
  }
}

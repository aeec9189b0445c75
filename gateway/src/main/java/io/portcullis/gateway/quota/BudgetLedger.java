package io.portcullis.gateway.quota;

import io.portcullis.policy.model.BudgetPeriod;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Spend per app and budget period, attributed to the app's cost centre. Charging is an in-memory add on the request
 * path; a background flush every {@code flushInterval} adds the new spend to {@code portcullis.budget_spend} and reads
 * the totals back, so spend survives restarts and every replica sees the others' within about one interval.
 *
 * <p>The soft-limit warning is claimed in the table ({@code warned_at IS NULL → now()}), so exactly one replica emits
 * the period's warning event, once, even across restarts.
 */
final class BudgetLedger implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BudgetLedger.class);
  /** Entries not used for this long and fully flushed are forgotten (the table keeps them). */
  private static final Duration IDLE = Duration.ofMinutes(2);

  private static final String UPSERT = """
      INSERT INTO portcullis.budget_spend AS s (app_id, period, period_start, cost_center, units)
      SELECT k.app_id, k.period, k.period_start::timestamptz, k.cost_center, k.units::float8
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
        AS k(app_id, period, period_start, cost_center, units)
      ON CONFLICT (app_id, period, period_start) DO UPDATE
        SET units = s.units + EXCLUDED.units, cost_center = EXCLUDED.cost_center, updated_at = now()
      RETURNING app_id, period, period_start, units, warned_at IS NOT NULL AS warned""";
  private static final String CLAIM_WARNING = """
      UPDATE portcullis.budget_spend SET warned_at = now()
      WHERE app_id = $1 AND period = $2 AND period_start = $3::timestamptz AND warned_at IS NULL""";
  private static final String LOAD = """
      SELECT app_id, period, period_start, units, warned_at IS NOT NULL AS warned
      FROM portcullis.budget_spend WHERE period_start > now() - interval '35 days'""";

  private final ConnectionFactory connections;
  private final Duration flushInterval;
  private final Consumer<Entry> warnings;
  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
  /** The entry of each app's current period: the per-request lookup, without recomputing the calendar. */
  private final Map<String, Entry> current = new ConcurrentHashMap<>();
  /** Totals read at start, consumed when the entry is first used. */
  private final Map<Key, Loaded> loaded = new ConcurrentHashMap<>();
  private volatile @Nullable Disposable flusher;
  private volatile boolean flushFailing;

  BudgetLedger(ConnectionFactory connections, Duration flushInterval, Consumer<Entry> warnings) {
    this.connections = connections;
    this.flushInterval = flushInterval;
    this.warnings = warnings;
  }

  /** Reads the spend of recent periods; start-up only. */
  Mono<Void> load() {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(LOAD).execute()).flatMap(r -> r.map((row, meta) -> {
              Key key = new Key(row.get("app_id", String.class),
                  BudgetPeriod.valueOf(row.get("period", String.class).toUpperCase(Locale.ROOT)),
                  row.get("period_start", OffsetDateTime.class).toInstant());
              return Map.entry(key, new Loaded(row.get("units", Double.class),
                  Boolean.TRUE.equals(row.get("warned", Boolean.class))));
            })),
            Connection::close)
        .doOnNext(e -> loaded.put(e.getKey(), e.getValue()))
        .then();
  }

  void start() {
    flusher = Flux.interval(flushInterval, flushInterval)
        .onBackpressureDrop()
        .concatMap(tick -> flush())
        .subscribe();
  }

  /** The entry of the app's period containing {@code now}; also the attribution for apps without a budget. */
  Entry entry(String app, BudgetPeriod period, ZoneId zone, String costCenter, long nowMillis) {
    Entry e = current.get(app);
    if (e == null || e.key.period != period || !e.zone.equals(zone) || nowMillis >= e.endMillis
        || nowMillis < e.startMillis) {
      Instant now = Instant.ofEpochMilli(nowMillis);
      Key key = new Key(app, period, BudgetPeriods.start(period, zone, now));
      e = entries.computeIfAbsent(key, k -> {
        Entry created = new Entry(k, zone, BudgetPeriods.end(period, zone, k.start()));
        Loaded l = loaded.remove(k);
        if (l != null) {
          created.persisted = l.units();
          created.warned = l.warned();
        }
        return created;
      });
      current.put(app, e);
    }
    e.costCenter = costCenter;
    e.touchedMillis = nowMillis;
    return e;
  }

  /** Adds spend on the request path: no I/O, written by the next flush. */
  void charge(Entry e, double units) {
    if (units > 0) {
      e.pending.add(units);
    }
  }

  /** Spend of the app's current period on this replica's view, or 0. */
  double used(String app) {
    Entry e = current.get(app);
    return e == null ? 0 : e.used();
  }

  /** Units left in the app's current period, or NaN when it has no budget. */
  double remaining(String app) {
    Entry e = current.get(app);
    return e == null || e.limit <= 0 ? Double.NaN : Math.max(0, e.limit - e.used());
  }

  /** Writes new spend, reads the totals back, claims due warnings. Never fails: a failed write is retried next time. */
  Mono<Void> flush() {
    long now = System.currentTimeMillis();
    List<Entry> batch = new ArrayList<>();
    for (Entry e : entries.values()) {
      double delta = e.pending.sumThenReset();
      e.inFlight = delta;
      boolean idle = now - e.touchedMillis > IDLE.toMillis();
      if (delta == 0 && idle) {
        if (now >= e.endMillis || current.get(e.key.app) != e) {
          entries.remove(e.key, e);
        }
        continue;
      }
      batch.add(e);
    }
    if (batch.isEmpty()) {
      return Mono.empty();
    }
    int n = batch.size();
    String[] apps = new String[n];
    String[] periods = new String[n];
    String[] starts = new String[n];
    String[] centres = new String[n];
    String[] units = new String[n];
    for (int i = 0; i < n; i++) {
      Entry e = batch.get(i);
      apps[i] = e.key.app;
      periods[i] = e.key.period.yamlName();
      starts[i] = e.key.start.toString();
      centres[i] = e.costCenter;
      units[i] = Double.toString(e.inFlight);
    }
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(UPSERT)
                    .bind("$1", apps).bind("$2", periods).bind("$3", starts).bind("$4", centres).bind("$5", units)
                    .execute())
                .flatMap(r -> r.map((row, meta) -> {
                  Key key = new Key(row.get("app_id", String.class),
                      BudgetPeriod.valueOf(row.get("period", String.class).toUpperCase(Locale.ROOT)),
                      row.get("period_start", OffsetDateTime.class).toInstant());
                  Entry e = entries.get(key);
                  if (e != null) {
                    e.persisted = row.get("units", Double.class);
                    e.inFlight = 0;
                    if (Boolean.TRUE.equals(row.get("warned", Boolean.class))) {
                      e.warned = true;
                    }
                  }
                  return key;
                }))
                .thenMany(Flux.fromIterable(batch))
                .filter(e -> e.softReached && !e.warned)
                .concatMap(e -> claimWarning(c, e)),
            Connection::close)
        .then()
        .doOnSuccess(v -> {
          if (flushFailing) {
            flushFailing = false;
            log.info("budget spend is written to PostgreSQL again");
          }
        })
        .onErrorResume(error -> {
          for (Entry e : batch) {
            double back = e.inFlight;
            e.inFlight = 0;
            e.pending.add(back);
          }
          if (!flushFailing) {
            flushFailing = true;
            log.warn("cannot write budget spend to PostgreSQL ({}); kept in memory and retried every {}",
                error.toString(), flushInterval);
          }
          return Mono.empty();
        });
  }

  private Mono<Void> claimWarning(Connection c, Entry e) {
    return Flux.from(c.createStatement(CLAIM_WARNING)
            .bind("$1", e.key.app).bind("$2", e.key.period.yamlName()).bind("$3", e.key.start.toString())
            .execute())
        .flatMap(r -> r.getRowsUpdated())
        .reduce(0L, (a, b) -> a + b.longValue())
        .doOnNext(updated -> {
          e.warned = true;
          if (updated > 0) {
            warnings.accept(e);
          }
        })
        .then();
  }

  @Override
  public void close() {
    Disposable d = flusher;
    if (d != null) {
      d.dispose();
    }
    // shutdown, off the event loop: write what is still in memory
    flush().block(Duration.ofSeconds(5));
  }

  record Key(String app, BudgetPeriod period, Instant start) {
  }

  private record Loaded(double units, boolean warned) {
  }

  /** One app's spend in one period. */
  static final class Entry {

    final Key key;
    final ZoneId zone;
    final Instant end;
    final long startMillis;
    final long endMillis;
    final DoubleAdder pending = new DoubleAdder();
    /** The table's total as last read back (includes every replica's flushed spend). */
    volatile double persisted;
    /** Taken from {@link #pending}, being written now. */
    volatile double inFlight;
    volatile String costCenter = "";
    volatile long touchedMillis;
    volatile boolean warned;
    volatile boolean softReached;
    /** The budget as last seen on the request path (for the warning event); 0 = no budget. */
    volatile long limit;

    Entry(Key key, ZoneId zone, Instant end) {
      this.key = key;
      this.zone = zone;
      this.end = end;
      this.startMillis = key.start.toEpochMilli();
      this.endMillis = end.toEpochMilli();
    }

    double used() {
      return persisted + inFlight + pending.sum();
    }
  }
}

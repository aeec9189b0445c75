package io.portcullis.audit;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The default sink: {@code portcullis.audit_events}, one {@code INSERT … SELECT … FROM json_to_recordset(…)} per
 * batch; a batch holding events the table has (a replay) goes again with {@code ON CONFLICT DO NOTHING}, so replays
 * are no-ops. Creates the next monthly partition itself when a batch reaches a month it has not
 * prepared, so the default partition only catches what maintenance missed. Also the {@link ChainHeadSource} for
 * restarts. Apply {@link AuditSchema} first.
 */
public final class PostgresAuditSink implements AuditSink, ChainHeadSource {

  /**
   * One statement per batch whatever its size: the events' canonical JSON as one {@code jsonb} array parameter, turned
   * into rows by PostgreSQL. The SQL text never changes (the driver parses it once, where a multi-row VALUES list of
   * 30 parameters per event was parsed again for every batch), and binding is one string instead of 30 values per
   * event. The JSON keys are the column names; a missing key (a null the canonical form omits) is a NULL.
   * {@code json}, not {@code jsonb}: the array is read once into rows, and building jsonb's binary tree first (sorted,
   * de-duplicated keys, numerics) only cost PostgreSQL CPU: ≈ 15 % less backend CPU per inserted event measured with
   * 30,000-event runs of the gateway's own events (load-tests/RESULTS.md). Canonical JSON has no duplicate keys, and
   * both read a member into its column the same way, so the stored rows (and their re-computed hashes) are the same.
   */
  static final String INSERT = "INSERT INTO portcullis.audit_events (" + EventRows.COLUMN_LIST + ") SELECT "
      + EventRows.COLUMN_LIST + " FROM json_to_recordset($1::json) AS e(" + EventRows.RECORD_TYPES + ")";

  /**
   * For a batch the plain insert refused as a duplicate. Not the first try: a speculative insertion checks the unique
   * index before each row and logs one more WAL record per row, ≈ 10 % of the insert's cost (load-tests/RESULTS.md),
   * for replays that only follow a crash or a sink outage.
   */
  static final String INSERT_SKIPPING_DUPLICATES = INSERT + " ON CONFLICT DO NOTHING";
  private static final String UNIQUE_VIOLATION = "23505";

  private final ConnectionFactory connectionFactory;
  /** Months whose partition (and the next month's) this instance has ensured. */
  private final Set<YearMonth> preparedMonths = ConcurrentHashMap.newKeySet();

  public PostgresAuditSink(ConnectionFactory connectionFactory) {
    this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
  }

  @Override
  public String name() {
    return "postgres";
  }

  @Override
  public Mono<Void> write(List<AuditEvent> batch) {
    Objects.requireNonNull(batch, "batch");
    List<byte[]> json = new ArrayList<>(batch.size());
    for (AuditEvent e : batch) {
      json.add(AuditJson.toJsonBytes(e));
    }
    return write(batch, json);
  }

  @Override
  public Mono<Void> write(List<AuditEvent> batch, List<byte[]> canonicalJson) {
    Objects.requireNonNull(batch, "batch");
    if (batch.isEmpty()) {
      return Mono.empty();
    }
    if (canonicalJson.size() != batch.size()) {
      return Mono.error(new IllegalArgumentException("one canonical JSON per event expected"));
    }
    String rows = jsonArray(canonicalJson);
    return Mono.usingWhen(connectionFactory.create(),
        c -> preparePartitions(c, batch).then(insert(c, INSERT, rows))
            .onErrorResume(PostgresAuditSink::isDuplicate, duplicate -> insert(c, INSERT_SKIPPING_DUPLICATES, rows)),
        Connection::close);
  }

  private static Mono<Void> insert(Connection c, String sql, String rows) {
    return Flux.from(c.createStatement(sql).bind(0, rows).execute()).flatMap(Result::getRowsUpdated).then();
  }

  private static boolean isDuplicate(Throwable e) {
    return e instanceof R2dbcException r && UNIQUE_VIOLATION.equals(r.getSqlState());
  }

  private static String jsonArray(List<byte[]> lines) {
    int total = 1 + lines.size();
    for (byte[] line : lines) {
      total += line.length;
    }
    byte[] out = new byte[total];
    int at = 0;
    out[at++] = '[';
    for (byte[] line : lines) {
      System.arraycopy(line, 0, out, at, line.length);
      at += line.length;
      out[at++] = ',';
    }
    out[at - 1] = ']';
    return new String(out, StandardCharsets.UTF_8);
  }

  /**
   * Ensures the partitions of every month in the batch and of the month after the latest, once per month per
   * instance: a batch crossing midnight at a month's end, or a replay of an old spill file, stays out of the default.
   */
  private Mono<Void> preparePartitions(Connection c, List<AuditEvent> batch) {
    List<Instant> missing = null;
    for (AuditEvent e : batch) {
      YearMonth month = YearMonth.from(e.timestamp().atZone(ZoneOffset.UTC));
      if (!preparedMonths.contains(month) && (missing == null || !containsMonth(missing, month))) {
        (missing == null ? missing = new ArrayList<>() : missing).add(e.timestamp());
      }
    }
    if (missing == null) {
      return Mono.empty();
    }
    return Flux.fromIterable(missing)
        .concatMap(t -> AuditSchema.ensurePartitions(c, t)
            .doOnSuccess(v -> preparedMonths.add(YearMonth.from(t.atZone(ZoneOffset.UTC)))))
        .then();
  }

  private static boolean containsMonth(List<Instant> times, YearMonth month) {
    for (Instant t : times) {
      if (YearMonth.from(t.atZone(ZoneOffset.UTC)).equals(month)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Mono<ChainHead> head(String chainId) {
    Objects.requireNonNull(chainId, "chainId");
    return Mono.usingWhen(connectionFactory.create(),
        c -> Mono.from(c.createStatement(
                "SELECT seq, hash FROM portcullis.audit_events WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(0, chainId).execute())
            .flatMap(r -> Mono.from(r.map((row, m) -> new ChainHead(chainId, row.get("seq", Long.class),
                row.get("hash", String.class))))),
        Connection::close);
  }
}

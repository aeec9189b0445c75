package io.portcullis.audit;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
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
 * The default sink: {@code portcullis.audit_events}, one multi-row {@code INSERT … ON CONFLICT DO NOTHING} per batch
 * (replays of a batch are no-ops). Creates the next monthly partition itself when a batch reaches a month it has not
 * prepared, so the default partition only catches what maintenance missed. Also the {@link ChainHeadSource} for
 * restarts. Apply {@link AuditSchema} first.
 */
public final class PostgresAuditSink implements AuditSink, ChainHeadSource {

  /** PostgreSQL allows 65,535 bind parameters per statement; larger batches are split into several statements. */
  static final int MAX_ROWS_PER_STATEMENT = 65_535 / EventRows.WIDTH;

  private final ConnectionFactory connectionFactory;
  private final String[] insertByRows = new String[MAX_ROWS_PER_STATEMENT + 1];
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
    if (batch.isEmpty()) {
      return Mono.empty();
    }
    return Mono.usingWhen(connectionFactory.create(),
        c -> preparePartitions(c, batch).then(insert(c, batch)),
        Connection::close);
  }

  private Mono<Void> insert(Connection c, List<AuditEvent> batch) {
    if (batch.size() <= MAX_ROWS_PER_STATEMENT) {
      return execute(statement(c, batch));
    }
    // several statements: one transaction, so a batch is all in or all out
    List<Mono<Void>> parts = new ArrayList<>();
    for (int from = 0; from < batch.size(); from += MAX_ROWS_PER_STATEMENT) {
      List<AuditEvent> part = batch.subList(from, Math.min(batch.size(), from + MAX_ROWS_PER_STATEMENT));
      parts.add(Mono.defer(() -> execute(statement(c, part))));
    }
    return Mono.from(c.beginTransaction()).then(Flux.concat(parts).then()).then(Mono.from(c.commitTransaction()))
        .onErrorResume(e -> Mono.from(c.rollbackTransaction()).onErrorResume(r -> Mono.empty()).then(Mono.error(e)));
  }

  private Statement statement(Connection c, List<AuditEvent> rows) {
    Statement s = c.createStatement(insertSql(rows.size()));
    for (int i = 0; i < rows.size(); i++) {
      EventRows.bind(s, i * EventRows.WIDTH, rows.get(i));
    }
    return s;
  }

  private static Mono<Void> execute(Statement s) {
    return Flux.from(s.execute()).flatMap(Result::getRowsUpdated).then();
  }

  /** SQL text per row count, built once: the driver caches prepared statements by text. */
  private String insertSql(int rows) {
    String sql = insertByRows[rows];
    if (sql == null) {
      StringBuilder b = new StringBuilder(64 + rows * EventRows.WIDTH * 5)
          .append("INSERT INTO portcullis.audit_events (").append(EventRows.COLUMN_LIST).append(") VALUES ");
      int p = 1;
      for (int r = 0; r < rows; r++) {
        b.append(r == 0 ? "(" : ",(");
        for (int col = 0; col < EventRows.WIDTH; col++) {
          b.append(col == 0 ? "$" : ",$").append(p++);
        }
        b.append(')');
      }
      sql = b.append(" ON CONFLICT DO NOTHING").toString();
      insertByRows[rows] = sql;
    }
    return sql;
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

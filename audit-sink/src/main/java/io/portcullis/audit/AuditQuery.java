package io.portcullis.audit;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Statement;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;

/**
 * Reads audit events back from PostgreSQL for the admin API: filtered pages in keyset order on
 * ({@code timestamp}, {@code event_id}), and a chain's events in {@code seq} order for the verifier. Streams rows;
 * nothing is buffered beyond the driver's fetch.
 */
public final class AuditQuery {

  public static final int MAX_PAGE = 10_000;

  private final ConnectionFactory connectionFactory;

  private AuditQuery(ConnectionFactory connectionFactory) {
    this.connectionFactory = connectionFactory;
  }

  public static AuditQuery create(ConnectionFactory connectionFactory) {
    return new AuditQuery(Objects.requireNonNull(connectionFactory, "connectionFactory"));
  }

  /**
   * One page of events matching {@code filter}, after {@code cursor} (null = first page), at most {@code limit}.
   * The next page starts at {@link AuditCursor#after(AuditEvent)} of the last event returned.
   */
  public Flux<AuditEvent> find(AuditFilter filter, AuditCursor cursor, int limit) {
    Objects.requireNonNull(filter, "filter");
    if (limit < 1 || limit > MAX_PAGE) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: 1.." + MAX_PAGE + ")");
    }
    StringBuilder sql = new StringBuilder(EventRows.SELECT).append(" WHERE true");
    List<Object> params = new ArrayList<>();
    where(sql, params, "app_id = ", filter.appId());
    where(sql, params, "actor_id = ", filter.actorId());
    if (filter.dataset() != null) {
      // request events are resource_type 'dataset' with the dataset's name in resource_id; the literal (not a bind)
      // keeps the predicate visible to the planner for audit_events_dataset_idx
      sql.append(" AND resource_type = 'dataset'");
      where(sql, params, "resource_id = ", filter.dataset());
    }
    where(sql, params, "outcome = ", filter.outcome() == null ? null : filter.outcome().json());
    where(sql, params, "\"timestamp\" >= ", filter.from() == null ? null : filter.from().atOffset(ZoneOffset.UTC));
    where(sql, params, "\"timestamp\" < ", filter.to() == null ? null : filter.to().atOffset(ZoneOffset.UTC));
    String dir = filter.newestFirst() ? "DESC" : "ASC";
    if (cursor != null) {
      params.add(cursor.timestamp().atOffset(ZoneOffset.UTC));
      params.add(cursor.eventId());
      sql.append(" AND (\"timestamp\", event_id) ").append(filter.newestFirst() ? "<" : ">")
          .append(" ($").append(params.size() - 1).append(", $").append(params.size()).append(')');
    }
    sql.append(" ORDER BY \"timestamp\" ").append(dir).append(", event_id ").append(dir).append(" LIMIT ").append(limit);
    return select(sql.toString(), params);
  }

  /** A chain's events with {@code fromSeq <= seq <= toSeq}, in stored order ({@code seq}, then {@code event_id}). */
  public Flux<AuditEvent> chain(String chainId, long fromSeq, long toSeq) {
    Objects.requireNonNull(chainId, "chainId");
    return select(EventRows.SELECT + " WHERE chain_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq, event_id",
        List.of(chainId, fromSeq, toSeq));
  }

  private static void where(StringBuilder sql, List<Object> params, String term, Object value) {
    if (value != null) {
      params.add(value);
      sql.append(" AND ").append(term).append('$').append(params.size());
    }
  }

  private Flux<AuditEvent> select(String sql, List<Object> params) {
    return Flux.usingWhen(connectionFactory.create(), c -> {
      Statement s = c.createStatement(sql);
      for (int i = 0; i < params.size(); i++) {
        s.bind(i, params.get(i));
      }
      return Flux.from(s.execute()).flatMap(r -> r.map((row, meta) -> EventRows.map(row)));
    }, Connection::close);
  }
}

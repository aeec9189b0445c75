package io.portcullis.gateway.admin;

import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import java.time.OffsetDateTime;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Four-eyes change requests in {@code portcullis.change_requests}. */
final class ChangeRequestStore {

  private static final String COLUMNS = "id, base_version, yaml, diff::text AS diff, author, reason, status, created_at, "
      + "decided_by, decided_at, decision_reason, approval, applied_version";

  private final ConnectionFactory connections;

  ChangeRequestStore(ConnectionFactory connections) {
    this.connections = connections;
  }

  Mono<ChangeRequest> create(long baseVersion, String yaml, String diffJson, String author, String reason) {
    return rows("INSERT INTO portcullis.change_requests (base_version, yaml, diff, author, reason) "
        + "VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING " + COLUMNS, baseVersion, yaml, diffJson, author, reason).next();
  }

  Mono<ChangeRequest> get(long id) {
    return rows("SELECT " + COLUMNS + " FROM portcullis.change_requests WHERE id = $1", id).next();
  }

  /** Newest first; {@code status} null = any. */
  Flux<ChangeRequest> list(@Nullable String status, long before, int limit) {
    return status == null
        ? rows("SELECT " + COLUMNS + " FROM portcullis.change_requests WHERE id < $1 ORDER BY id DESC LIMIT $2",
            before, limit)
        : rows("SELECT " + COLUMNS + " FROM portcullis.change_requests WHERE status = $1 AND id < $2 "
            + "ORDER BY id DESC LIMIT $3", status, before, limit);
  }

  /** Closes a pending request; empty when it was no longer pending (another admin decided first). */
  Mono<ChangeRequest> decide(long id, String status, String by, String reason, @Nullable String approval,
      @Nullable Long appliedVersion) {
    return rows("UPDATE portcullis.change_requests SET status = $2, decided_by = $3, decided_at = now(), "
            + "decision_reason = $4, approval = nullif($5, ''), applied_version = nullif($6, 0) "
            + "WHERE id = $1 AND status = 'pending' RETURNING " + COLUMNS,
        id, status, by, reason, approval == null ? "" : approval, appliedVersion == null ? 0L : appliedVersion).next();
  }

  private Flux<ChangeRequest> rows(String sql, Object... params) {
    return Flux.usingWhen(connections.create(),
        c -> {
          var statement = c.createStatement(sql);
          for (int i = 0; i < params.length; i++) {
            statement.bind(i, params[i]);
          }
          return Flux.from(statement.execute()).flatMap(r -> r.map((Readable row) -> read(row)));
        },
        c -> c.close());
  }

  private static ChangeRequest read(Readable row) {
    OffsetDateTime decidedAt = row.get("decided_at", OffsetDateTime.class);
    return new ChangeRequest(row.get("id", Long.class), row.get("base_version", Long.class),
        row.get("yaml", String.class), row.get("diff", String.class), row.get("author", String.class),
        row.get("reason", String.class), row.get("status", String.class),
        row.get("created_at", OffsetDateTime.class).toInstant(), row.get("decided_by", String.class),
        decidedAt == null ? null : decidedAt.toInstant(), row.get("decision_reason", String.class),
        row.get("approval", String.class), row.get("applied_version", Long.class));
  }
}

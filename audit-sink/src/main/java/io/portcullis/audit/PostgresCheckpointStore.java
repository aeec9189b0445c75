package io.portcullis.audit;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Checkpoints in {@code portcullis.audit_checkpoints} (append-only, see {@link AuditSchema}). */
public final class PostgresCheckpointStore implements CheckpointStore {

  private static final String COLUMNS = "chain_id, seq, head_hash, event_count, created_at, kid, jws";

  private final ConnectionFactory connectionFactory;

  public PostgresCheckpointStore(ConnectionFactory connectionFactory) {
    this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
  }

  @Override
  public Mono<Void> save(AuditCheckpoint cp) {
    Objects.requireNonNull(cp, "checkpoint");
    return Mono.usingWhen(connectionFactory.create(), c -> {
      Statement s = c.createStatement("INSERT INTO portcullis.audit_checkpoints (" + COLUMNS
              + ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
          .bind(0, cp.chainId()).bind(1, cp.seq()).bind(2, cp.headHash()).bind(3, cp.count())
          .bind(4, cp.time().atOffset(ZoneOffset.UTC));
      if (cp.kid() == null) {
        s.bindNull(5, String.class);
      } else {
        s.bind(5, cp.kid());
      }
      s.bind(6, cp.jws());
      return Flux.from(s.execute()).flatMap(Result::getRowsUpdated).then();
    }, Connection::close);
  }

  @Override
  public Mono<AuditCheckpoint> latest(String chainId) {
    Objects.requireNonNull(chainId, "chainId");
    return query("SELECT " + COLUMNS + " FROM portcullis.audit_checkpoints WHERE chain_id = $1 "
        + "ORDER BY seq DESC LIMIT 1", s -> s.bind(0, chainId)).next();
  }

  @Override
  public Flux<AuditCheckpoint> find(String chainId, long fromSeq, long toSeq) {
    Objects.requireNonNull(chainId, "chainId");
    return query("SELECT " + COLUMNS + " FROM portcullis.audit_checkpoints WHERE chain_id = $1 "
        + "AND seq BETWEEN $2 AND $3 ORDER BY seq", s -> s.bind(0, chainId).bind(1, fromSeq).bind(2, toSeq));
  }

  private Flux<AuditCheckpoint> query(String sql, Function<Statement, Statement> binder) {
    return Flux.usingWhen(connectionFactory.create(),
        c -> Flux.from(binder.apply(c.createStatement(sql)).execute())
            .flatMap(r -> r.map((row, meta) -> map(row))),
        Connection::close);
  }

  private static AuditCheckpoint map(Readable r) {
    return new AuditCheckpoint(r.get("chain_id", String.class), r.get("seq", Long.class),
        r.get("head_hash", String.class), r.get("event_count", Long.class),
        r.get("created_at", OffsetDateTime.class).toInstant(), r.get("kid", String.class), r.get("jws", String.class));
  }
}

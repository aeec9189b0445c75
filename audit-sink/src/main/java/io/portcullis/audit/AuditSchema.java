package io.portcullis.audit;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Applies the audit DDL ({@code schema.sql}: {@code portcullis.audit_events} partitioned by month, append-only
 * triggers, {@code portcullis.audit_checkpoints}) and creates the partitions of the current and the next month.
 * Idempotent and safe to run from several gateways at once.
 */
public final class AuditSchema {

  static final String DDL = load();

  private AuditSchema() {}

  public static Mono<Void> apply(ConnectionFactory connectionFactory) {
    return apply(connectionFactory, Clock.systemUTC());
  }

  public static Mono<Void> apply(ConnectionFactory connectionFactory, Clock clock) {
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    Objects.requireNonNull(clock, "clock");
    return Mono.usingWhen(connectionFactory.create(),
        c -> Flux.from(c.createStatement(DDL).execute()).flatMap(Result::getRowsUpdated).then()
            .then(ensurePartitions(c, clock.instant())),
        Connection::close);
  }

  /** Creates the partitions for the month of {@code time} and the month after (no-op when they exist). */
  static Mono<Void> ensurePartitions(Connection c, Instant time) {
    OffsetDateTime month = time.atOffset(ZoneOffset.UTC);
    return ensurePartition(c, month).then(ensurePartition(c, month.plusMonths(1)));
  }

  private static Mono<Void> ensurePartition(Connection c, OffsetDateTime monthOf) {
    return Flux.from(c.createStatement("SELECT portcullis.audit_ensure_partition($1)").bind("$1", monthOf).execute())
        .flatMap(r -> r.map((row, meta) -> 1))
        .then();
  }

  private static String load() {
    try (InputStream in = AuditSchema.class.getResourceAsStream("schema.sql")) {
      if (in == null) {
        throw new IllegalStateException("schema.sql missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.portcullis.gateway.config;

import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Readable;
import java.time.OffsetDateTime;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Config versions in PostgreSQL: append-only, newest wins; a NOTIFY tells every gateway instance to reload. */
public final class ConfigStore {

  static final String CHANNEL = "portcullis_config";
  private static final String COLUMNS = "version, yaml, author, reason, created_at";
  private static final String SUMMARY_COLUMNS = "version, parent, author, reason, created_at, diff::text AS diff, "
      + "approval";

  private final ConnectionFactory connections;

  public ConfigStore(ConnectionFactory connections) {
    this.connections = connections;
  }

  public Mono<StoredConfig> latest() {
    return query("SELECT " + COLUMNS + " FROM portcullis.config_versions ORDER BY version DESC LIMIT 1", null)
        .next();
  }

  /** One stored version, or empty. */
  public Mono<StoredConfig> version(long version) {
    return query("SELECT " + COLUMNS + " FROM portcullis.config_versions WHERE version = $1", version).next();
  }

  /** A page of versions, newest first, starting below {@code before} (exclusive; {@code Long.MAX_VALUE} = newest). */
  public Flux<ConfigVersionInfo> history(long before, int limit) {
    return Flux.usingWhen(connections.create(),
        c -> Flux.from(c.createStatement("SELECT " + SUMMARY_COLUMNS + " FROM portcullis.config_versions "
                + "WHERE version < $1 ORDER BY version DESC LIMIT $2")
            .bind(0, before).bind(1, limit).execute()).flatMap(r -> r.map((Readable row) -> readInfo(row))),
        c -> c.close());
  }

  /** Author, reason, diff and approval of one version, or empty. */
  public Mono<ConfigVersionInfo> info(long version) {
    return Flux.usingWhen(connections.create(),
        c -> Flux.from(c.createStatement("SELECT " + SUMMARY_COLUMNS + " FROM portcullis.config_versions "
                + "WHERE version = $1").bind(0, version).execute()).flatMap(r -> r.map((Readable row) -> readInfo(row))),
        c -> c.close()).next();
  }

  /** Stores a new version (already validated by compiling it) and notifies every instance. */
  public Mono<Long> append(String yaml, String author, String reason) {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(
                    "WITH v AS (INSERT INTO portcullis.config_versions (yaml, author, reason) VALUES ($1, $2, $3) RETURNING version) "
                        + "SELECT version, pg_notify('" + CHANNEL + "', version::text) FROM v")
                .bind(0, yaml).bind(1, author).bind(2, reason)
                .execute()).flatMap(r -> r.map((row, meta) -> row.get("version", Long.class))),
            c -> c.close())
        .next();
  }

  /**
   * Stores a new version only while {@code parent} is still the newest one (compare-and-set: the unique parent index
   * refuses a second child of the same version even when two transactions race), with its diff and approval.
   * Empty when another change came first.
   */
  public Mono<Long> appendIfCurrent(long parent, String yaml, String author, String reason, String diffJson,
      @Nullable String approval) {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(
                    "WITH v AS (INSERT INTO portcullis.config_versions (yaml, author, reason, parent, diff, approval) "
                        + "SELECT $1, $2, $3, $4, $5::jsonb, $6 "
                        + "WHERE (SELECT coalesce(max(version), 0) FROM portcullis.config_versions) = $4 "
                        + "RETURNING version) "
                        + "SELECT version, pg_notify('" + CHANNEL + "', version::text) FROM v")
                .bind(0, yaml).bind(1, author).bind(2, reason).bind(3, parent).bind(4, diffJson)
                .bind(5, approval == null ? "" : approval)
                .execute()).flatMap(r -> r.map((row, meta) -> row.get("version", Long.class))),
            c -> c.close())
        .onErrorResume(R2dbcDataIntegrityViolationException.class, e -> Mono.empty())
        .next();
  }

  private Flux<StoredConfig> query(String sql, @Nullable Long version) {
    return Flux.usingWhen(connections.create(),
        c -> {
          var statement = c.createStatement(sql);
          if (version != null) {
            statement.bind(0, version);
          }
          return Flux.from(statement.execute()).flatMap(r -> r.map((row, meta) -> new StoredConfig(
              row.get("version", Long.class), row.get("yaml", String.class), row.get("author", String.class),
              row.get("reason", String.class), row.get("created_at", OffsetDateTime.class).toInstant())));
        },
        c -> c.close());
  }

  private static ConfigVersionInfo readInfo(Readable row) {
    String approval = row.get("approval", String.class);
    return new ConfigVersionInfo(row.get("version", Long.class), row.get("parent", Long.class),
        row.get("author", String.class), row.get("reason", String.class),
        row.get("created_at", OffsetDateTime.class).toInstant(), row.get("diff", String.class),
        approval == null || approval.isEmpty() ? null : approval);
  }
}

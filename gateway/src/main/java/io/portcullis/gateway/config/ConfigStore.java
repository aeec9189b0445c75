package io.portcullis.gateway.config;

import io.r2dbc.spi.ConnectionFactory;
import java.time.OffsetDateTime;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Config versions in PostgreSQL: append-only, newest wins; a NOTIFY tells every gateway instance to reload. */
public final class ConfigStore {

  static final String CHANNEL = "portcullis_config";

  private final ConnectionFactory connections;

  public ConfigStore(ConnectionFactory connections) {
    this.connections = connections;
  }

  public Mono<StoredConfig> latest() {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(
                    "SELECT version, yaml, author, reason, created_at FROM portcullis.config_versions ORDER BY version DESC LIMIT 1")
                .execute()).flatMap(r -> r.map((row, meta) -> new StoredConfig(
                    row.get("version", Long.class), row.get("yaml", String.class), row.get("author", String.class),
                    row.get("reason", String.class), row.get("created_at", OffsetDateTime.class).toInstant()))),
            c -> c.close())
        .next();
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
}

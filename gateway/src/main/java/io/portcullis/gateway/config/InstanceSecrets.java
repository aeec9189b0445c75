package io.portcullis.gateway.config;

import io.r2dbc.spi.ConnectionFactory;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Secrets an instance generates once and keeps (the hash-mask key when none is configured; demo client secrets).
 * Insert-if-absent then read, so concurrent first starts of several replicas agree on one value.
 */
public final class InstanceSecrets {

  private final ConnectionFactory connections;

  public InstanceSecrets(ConnectionFactory connections) {
    this.connections = connections;
  }

  /** The stored secret, or empty. */
  public Mono<String> get(String name) {
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement("SELECT value FROM portcullis.instance_secrets WHERE name = $1")
                    .bind(0, name).execute())
                .flatMap(r -> r.map((row, meta) -> row.get("value", String.class))),
            c -> c.close())
        .next();
  }

  public Mono<String> getOrCreate(String name, Supplier<String> generator) {
    return get(name).switchIfEmpty(Mono.defer(() -> Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(
                    "INSERT INTO portcullis.instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(0, name).bind(1, generator.get()).execute())
                .flatMap(r -> r.getRowsUpdated()),
            c -> c.close())
        .then(get(name))));
  }
}

package io.portcullis.broker;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Applies the broker's idempotent DDL ({@code schema.sql}): signing keys, revoked tokens, paused apps. */
public final class BrokerSchema {

  static final String DDL = load();

  private BrokerSchema() {}

  public static Mono<Void> apply(ConnectionFactory connectionFactory) {
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    return Mono.usingWhen(connectionFactory.create(),
        c -> Flux.from(c.createStatement(DDL).execute()).flatMap(r -> r.getRowsUpdated()).then(),
        Connection::close);
  }

  private static String load() {
    try (InputStream in = BrokerSchema.class.getResourceAsStream("schema.sql")) {
      if (in == null) {
        throw new IllegalStateException("schema.sql missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

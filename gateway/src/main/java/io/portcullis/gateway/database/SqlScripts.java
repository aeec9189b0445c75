package io.portcullis.gateway.database;

import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Runs an idempotent SQL script from the classpath (PostgreSQL's simple-query protocol takes many statements). */
public final class SqlScripts {

  private SqlScripts() {
  }

  public static Mono<Void> run(ConnectionFactory connections, String classpathResource) {
    String script = read(classpathResource);
    return Flux.usingWhen(connections.create(),
            c -> Flux.from(c.createStatement(script).execute()).flatMap(r -> r.getRowsUpdated()),
            c -> c.close())
        .then();
  }

  static String read(String resource) {
    try (InputStream in = SqlScripts.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing classpath resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

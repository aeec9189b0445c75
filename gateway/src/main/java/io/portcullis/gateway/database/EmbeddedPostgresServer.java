package io.portcullis.gateway.database;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: a real PostgreSQL from Maven Central binaries, its data kept under a local folder so the
 * demo survives restarts. Started and stopped with the application context (it runs before any reactive code).
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  public static EmbeddedPostgresServer start(Path dataDir, boolean reset, int port) {
    try {
      Path dir = dataDir.toAbsolutePath();
      if (reset && Files.exists(dir)) {
        deleteTree(dir);
      }
      Files.createDirectories(dir.getParent());
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(false)
          .setPGStartupWait(Duration.ofSeconds(60))
          .setServerConfig("max_connections", "200");
      if (port > 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      log.info("Embedded PostgreSQL on 127.0.0.1:{}, data in {}", pg.getPort(), dir);
      return new EmbeddedPostgresServer(pg);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the embedded PostgreSQL in " + dataDir
          + " (use --portcullis.database.url=r2dbc:postgresql://… to use a running server)", e);
    }
  }

  public String r2dbcUrl() {
    return "r2dbc:postgresql://postgres:postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
  }

  public int port() {
    return postgres.getPort();
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

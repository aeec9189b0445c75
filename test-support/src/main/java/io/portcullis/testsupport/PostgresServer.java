package io.portcullis.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** One PostgreSQL server for the test JVM; closed by JUnit when the root context closes. */
final class PostgresServer implements AutoCloseable {

  private final String host;
  private final int port;
  private final String username;
  private final String password;
  private final String adminDatabase;
  private final AutoCloseable owned;
  private final String origin;

  private PostgresServer(String host, int port, String username, String password, String adminDatabase,
      AutoCloseable owned, String origin) {
    this.host = host;
    this.port = port;
    this.username = username;
    this.password = password;
    this.adminDatabase = adminDatabase;
    this.owned = owned;
    this.origin = origin;
  }

  static PostgresServer start() {
    String url = System.getenv("PORTCULLIS_TEST_PG_URL");
    if (url != null && !url.isBlank()) {
      return fromUrl(url);
    }
    if (DockerProbe.engineAnswers()) {
      return TestcontainersPostgres.start();
    }
    return embedded();
  }

  private static PostgresServer fromUrl(String url) {
    URI uri = URI.create(url.replaceFirst("^jdbc:", ""));
    String[] userInfo = uri.getUserInfo() == null ? new String[] {"postgres", ""} : uri.getUserInfo().split(":", 2);
    String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
    return new PostgresServer(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), userInfo[0],
        userInfo.length > 1 ? userInfo[1] : "", db, () -> { }, "PORTCULLIS_TEST_PG_URL");
  }

  static PostgresServer of(String host, int port, String user, String password, String db, AutoCloseable owned, String origin) {
    return new PostgresServer(host, port, user, password, db, owned, origin);
  }

  private static PostgresServer embedded() {
    try {
      Path dir = Files.createTempDirectory("portcullis-test-pg");
      // zonky runs initdb/pg_ctl through `unshare -U` when we are root, so PostgreSQL's refusal to run as root is handled.
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dir.resolve("data"))
          .setCleanDataDirectory(true)
          .setPGStartupWait(Duration.ofSeconds(60))
          .setServerConfig("max_connections", "300")
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .start();
      return new PostgresServer("127.0.0.1", pg.getPort(), "postgres", "postgres", "postgres", pg, "embedded PostgreSQL");
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("""
          Could not start a PostgreSQL for the tests. Either
            - set PORTCULLIS_TEST_PG_URL=postgresql://user:password@host:port/db to a running server, or
            - run a Docker engine (Testcontainers is used then), or
            - let the embedded binaries run: they need `unshare` (util-linux) when running as root and a writable temp dir.
          Cause: %s""".formatted(e), e);
    }
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  String username() {
    return username;
  }

  String password() {
    return password;
  }

  String adminDatabase() {
    return adminDatabase;
  }

  String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  String describe() {
    return origin + " at " + host + ":" + port;
  }

  @Override
  public void close() throws Exception {
    owned.close();
  }
}

package io.portcullis.testsupport;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/** The Docker path of {@link PostgresServer}: used only where a Docker engine answers. */
final class TestcontainersPostgres {

  private TestcontainersPostgres() {
  }

  @SuppressWarnings("resource")
  static PostgresServer start() {
    GenericContainer<?> c = new GenericContainer<>("postgres:18-alpine")
        .withEnv("POSTGRES_PASSWORD", "postgres")
        .withCommand("postgres", "-c", "max_connections=300", "-c", "fsync=off")
        .withExposedPorts(5432)
        .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*\\n", 2));
    c.start();
    return PostgresServer.of(c.getHost(), c.getMappedPort(5432), "postgres", "postgres", "postgres", c::stop,
        "Testcontainers PostgreSQL");
  }
}

package io.portcullis.gateway.database;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.portcullis.gateway.connector.postgres.SourcePools;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.ValidationDepth;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import reactor.core.publisher.Mono;

/** The PostgreSQL that holds Portcullis's state and the demo datasets: a configured server, or the embedded one. */
@Configuration(proxyBeanMethods = false)
class DatabaseConfiguration {
  /** How long a start waits for PostgreSQL to accept connections (compose and Kubernetes start both at once). */
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);


  @Bean(destroyMethod = "close")
  DatabaseEndpoint databaseEndpoint(DatabaseProperties properties, Environment env) {
    if (!properties.embedded()) {
      return new DatabaseEndpoint(properties.url(), null);
    }
    // `--demo.reset` (no value) arrives as an empty string: treat presence as "yes".
    String flag = env.getProperty("demo.reset");
    boolean reset = properties.reset() || (flag != null && !flag.equalsIgnoreCase("false"));
    EmbeddedPostgresServer server =
        EmbeddedPostgresServer.start(properties.dataDir(), reset, properties.embeddedPort());
    return new DatabaseEndpoint(server.r2dbcUrl(), server);
  }

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionFactory(DatabaseEndpoint endpoint, DatabaseProperties properties) {
    ConnectionFactory factory = ConnectionFactories.get(SourcePools.withConnectorCodecs(
        ConnectionFactoryOptions.parse(endpoint.r2dbcUrl()).mutate()
            .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, Duration.ofSeconds(5))).build());
    ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(factory)
        .name("portcullis")
        .initialSize(Math.min(4, properties.poolSize()))
        .maxSize(properties.poolSize())
        .maxAcquireTime(properties.acquireTimeout())
        .maxIdleTime(Duration.ofMinutes(5))
        // the connection's own state (socket open, not in a failed transaction) is checked locally: a SELECT 1 per
        // acquire would add a round trip to every audit batch, budget write and read
        .validationDepth(ValidationDepth.LOCAL)
        .build());
    // every start-up step (schema, secrets, config, audit sink, revocations) finds the database ready
    DatabaseWait.untilReachable(Mono.usingWhen(pool.create(), c -> Mono.just(true), Connection::close),
        Duration.ofMillis(200), Duration.ofSeconds(2)).block(STARTUP_TIMEOUT);
    return pool;
  }
}

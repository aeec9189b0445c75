package io.portcullis.gateway.database;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** The PostgreSQL that holds Portcullis's state and the demo datasets: a configured server, or the embedded one. */
@Configuration(proxyBeanMethods = false)
class DatabaseConfiguration {

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
    ConnectionFactory factory = ConnectionFactories.get(ConnectionFactoryOptions.parse(endpoint.r2dbcUrl())
        .mutate()
        .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, Duration.ofSeconds(5))
        .build());
    return new ConnectionPool(ConnectionPoolConfiguration.builder(factory)
        .name("portcullis")
        .initialSize(Math.min(4, properties.poolSize()))
        .maxSize(properties.poolSize())
        .maxAcquireTime(properties.acquireTimeout())
        .maxIdleTime(Duration.ofMinutes(5))
        .validationQuery("SELECT 1")
        .build());
  }
}

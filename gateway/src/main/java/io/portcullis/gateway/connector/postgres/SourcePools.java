package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.model.PostgresSource;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import reactor.core.publisher.Mono;

/**
 * One connection pool per data source (DESIGN.md §2 Dataset source): the gateway's own database for datasets that
 * name no {@code connection}, and one pool per configured {@code portcullis.data.sources.<name>}, sized by its config,
 * so a slow or dead source exhausts only its own connections. Pools are created lazily: a source that is down at start
 * costs nothing until a request needs it, and then answers {@code upstream_unavailable}.
 */
public final class SourcePools implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SourcePools.class);

  private final ConnectionFactory own;
  private final Map<String, ConnectionPool> pools;

  public SourcePools(ConnectionFactory own, Map<String, PostgresConnectorProperties.Source> sources) {
    this.own = Objects.requireNonNull(own, "own");
    Map<String, ConnectionPool> built = new HashMap<>();
    sources.forEach((name, s) -> built.put(name, pool(name, s)));
    this.pools = Map.copyOf(built);
  }

  /** The connections of the dataset's source; a name this gateway does not know is unavailable, not a 500. */
  public ConnectionFactory of(PostgresSource source) {
    String name = source.connection();
    if (name == null) {
      return own;
    }
    ConnectionPool pool = pools.get(name);
    if (pool == null) {
      throw new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE,
          "the dataset's data source is not configured on this gateway", null, List.of(),
          Map.of(HttpHeaders.RETRY_AFTER, "60"));
    }
    return pool;
  }

  /**
   * A connection from {@code connections}; failing to get one — the pool is exhausted past its acquire timeout, the
   * server refuses or does not answer — is {@code upstream_unavailable} (503 with Retry-After), whatever the driver
   * calls it.
   */
  public static Mono<Connection> connect(ConnectionFactory connections) {
    return Mono.<Connection>from(connections.create()).onErrorMap(e -> !(e instanceof ProblemException), e -> {
      log.debug("no connection to the data source", e);
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "no connection to the datastore is available",
          null, List.of(), Map.of(HttpHeaders.RETRY_AFTER, "1"));
    });
  }

  /** The codecs the connector adds to every connection of a data source (the gateway's own database included). */
  public static ConnectionFactoryOptions.Builder withConnectorCodecs(ConnectionFactoryOptions.Builder options) {
    return options.option(PostgresqlConnectionFactoryProvider.EXTENSIONS, List.of(TextFormCodec.REGISTRAR));
  }

  private static ConnectionPool pool(String name, PostgresConnectorProperties.Source s) {
    ConnectionFactory factory = ConnectionFactories.get(withConnectorCodecs(ConnectionFactoryOptions.parse(s.url())
        .mutate().option(ConnectionFactoryOptions.CONNECT_TIMEOUT, s.connectTimeout())).build());
    return new ConnectionPool(ConnectionPoolConfiguration.builder(factory)
        .name("source-" + name)
        .initialSize(0)
        .maxSize(s.poolSize())
        .maxAcquireTime(s.acquireTimeout())
        .maxCreateConnectionTime(s.connectTimeout())
        .maxIdleTime(Duration.ofMinutes(5))
        .build());
  }

  @Override
  public void close() {
    pools.values().forEach(ConnectionPool::dispose);
  }
}

package io.portcullis.broker.standalone;

import io.portcullis.broker.BrokerConfiguration;
import io.portcullis.broker.ClientRegistry;
import io.portcullis.broker.RegisteredClient;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * The broker as its own service: the same beans as inside the gateway ({@link BrokerConfiguration}), with clients
 * from the configuration file ({@code portcullis.standalone.clients}) and PostgreSQL from
 * {@code portcullis.standalone.r2dbc-url}.
 *
 * <p>No component scan on purpose: a host scanning {@code io.portcullis} must not pick up this application's beans.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(BrokerConfiguration.class)
@EnableConfigurationProperties(TokenBrokerApplication.StandaloneProperties.class)
public class TokenBrokerApplication {

  public static void main(String[] args) {
    SpringApplication.run(TokenBrokerApplication.class, args);
  }

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionFactory(StandaloneProperties properties) {
    return new ConnectionPool(ConnectionPoolConfiguration.builder(ConnectionFactories.get(properties.r2dbcUrl()))
        .maxSize(properties.poolSize())
        .build());
  }

  @Bean
  ClientRegistry clientRegistry(StandaloneProperties properties) {
    Map<String, RegisteredClient> byId = properties.clients().stream()
        .map(StandaloneProperties.Client::toRegistered)
        .collect(Collectors.toUnmodifiableMap(RegisteredClient::clientId, Function.identity()));
    return byId::get;
  }

  /**
   * {@code portcullis.standalone.*}.
   *
   * @param r2dbcUrl {@code r2dbc:postgresql://user:password@host:port/db}
   * @param poolSize connections (one is held for LISTEN)
   * @param clients  the apps allowed to get tokens
   */
  @ConfigurationProperties("portcullis.standalone")
  public record StandaloneProperties(String r2dbcUrl, int poolSize, List<Client> clients) {
    public StandaloneProperties {
      Objects.requireNonNull(r2dbcUrl, "portcullis.standalone.r2dbc-url is required");
      poolSize = poolSize == 0 ? 10 : poolSize;
      clients = clients == null ? List.of() : List.copyOf(clients);
    }

    /** One app: {@code secret-hash} from {@code SecretHasher.hash}, or {@code jwks} for private_key_jwt. */
    public record Client(String clientId, int tier, @Nullable Boolean active, @Nullable String secretHash,
        @Nullable String jwks, List<String> scopes) {
      RegisteredClient toRegistered() {
        return new RegisteredClient(clientId, tier, active == null || active, secretHash, jwks,
            scopes == null ? Set.of() : Set.copyOf(scopes));
      }
    }
  }
}

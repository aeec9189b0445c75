package io.portcullis.gateway.token;

import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.broker.BrokerEventListener;
import io.portcullis.broker.BrokerProperties;
import io.portcullis.broker.RevocationRegistry;
import io.portcullis.broker.RevocationStore;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.admin.AdminProperties;
import io.portcullis.gateway.config.InstanceSecrets;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.database.DatabaseProperties;
import io.portcullis.gateway.demo.DemoProperties;
import io.r2dbc.spi.ConnectionFactory;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The token broker inside the gateway process (the default deployment): same code as the standalone broker, wired
 * to the gateway's database and to its policy snapshot as the client registry.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(BrokerProperties.class)
class BrokerWiring {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean(destroyMethod = "close")
  TokenBroker tokenBroker(BrokerProperties properties, ConnectionFactory connections, SnapshotHolder snapshots,
      AdminProperties admin, DemoProperties demo, DatabaseProperties database, InstanceSecrets secrets,
      ObjectProvider<BrokerEventListener> events, ObjectProvider<WebClient.Builder> webClient) {
    BrokerProperties effective = properties;
    if (properties.keyEncryptionKey() == null && properties.jwksUri() == null && demo.enabledFor(database.embedded())) {
      // Demo only: a generated key-encryption key kept beside the data. Production passes it as a secret.
      effective = properties.withKeyEncryptionKey(
          secrets.getOrCreate("demo-key-encryption-key", BrokerWiring::newKey).block(STARTUP_TIMEOUT));
    }
    TokenBroker broker = TokenBroker.create(effective, connections,
        new SnapshotClientRegistry(snapshots, admin.apps()), events.getIfAvailable(() -> BrokerEventListener.NONE),
        webClient.getIfAvailable(WebClient::builder), Clock.systemUTC());
    broker.start().block(STARTUP_TIMEOUT);
    return broker;
  }

  @Bean
  AccessTokenVerifier accessTokenVerifier(TokenBroker broker) {
    return broker.verifier();
  }

  @Bean
  RevocationStore revocationStore(TokenBroker broker) {
    return broker.revocations();
  }

  @Bean
  RevocationRegistry revocationRegistry(TokenBroker broker) {
    return broker.revocationRegistry();
  }

  @Bean
  RouterFunction<ServerResponse> brokerRoutes(TokenBroker broker) {
    // verifier-only (portcullis.broker.jwks-uri, no key-encryption-key): the external broker serves these
    return broker.properties().keyEncryptionKey() != null ? broker.routes().routerFunction() : request -> Mono.empty();
  }

  private static String newKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }
}

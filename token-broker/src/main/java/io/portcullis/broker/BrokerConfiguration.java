package io.portcullis.broker;

import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Spring wiring of the broker. The host application provides a {@link ConnectionFactory} (PostgreSQL, r2dbc) and a
 * {@link ClientRegistry}; optionally a {@link BrokerEventListener} (audit), a {@link WebClient.Builder} and a
 * {@link Clock}. Exposes the {@link TokenBroker}, the {@link AccessTokenVerifier}, the revocation store/view and —
 * when this process signs tokens ({@code portcullis.broker.key-encryption-key} set) — the token endpoint routes.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(BrokerProperties.class)
public class BrokerConfiguration {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  /** Started here, on the main thread during context refresh (never on an event loop). */
  @Bean(destroyMethod = "close")
  public TokenBroker tokenBroker(BrokerProperties properties, ConnectionFactory connectionFactory,
      ClientRegistry clientRegistry, ObjectProvider<BrokerEventListener> events,
      ObjectProvider<WebClient.Builder> webClient, ObjectProvider<Clock> clock) {
    TokenBroker broker = TokenBroker.create(properties, connectionFactory, clientRegistry,
        events.getIfAvailable(() -> BrokerEventListener.NONE), webClient.getIfAvailable(WebClient::builder),
        clock.getIfAvailable(Clock::systemUTC));
    broker.start().block(STARTUP_TIMEOUT);
    return broker;
  }

  @Bean
  public AccessTokenVerifier accessTokenVerifier(TokenBroker broker) {
    return broker.verifier();
  }

  @Bean
  public RevocationStore revocationStore(TokenBroker broker) {
    return broker.revocations();
  }

  @Bean
  public RevocationRegistry revocationRegistry(TokenBroker broker) {
    return broker.revocationRegistry();
  }

  @Bean
  @ConditionalOnProperty(prefix = "portcullis.broker", name = "key-encryption-key")
  public RouterFunction<ServerResponse> brokerRoutes(TokenBroker broker) {
    return broker.routes().routerFunction();
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.jwk.JWKSet;
import io.r2dbc.spi.ConnectionFactory;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The whole broker, wired from {@link BrokerProperties}, a {@link ConnectionFactory} and a {@link ClientRegistry}: the
 * one entry point for embedding it without Spring's configuration ({@link BrokerConfiguration} uses it too).
 *
 * <pre>{@code
 * TokenBroker broker = TokenBroker.create(props, connectionFactory, clientRegistry, auditListener,
 *     WebClient.builder(), Clock.systemUTC());
 * broker.start().block(Duration.ofSeconds(30));       // at startup, not on an event loop
 * RouterFunction<ServerResponse> routes = broker.routes().routerFunction();
 * Mono<TokenClaims> claims = broker.verifier().verify(jwt);
 * broker.revocations().pauseApp("app-1", "incident 42");
 * }</pre>
 */
public final class TokenBroker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TokenBroker.class);

  private final BrokerProperties props;
  private final ConnectionFactory connectionFactory;
  private final SigningKeyStore keyStore;
  private final RevocationStore revocations;
  private final RevocationRegistry registry;
  private final AccessTokenVerifier verifier;
  private final ClientAuthenticator authenticator;
  private final BrokerRoutes routes;
  private final BrokerEventListener events;
  private final Clock clock;
  private volatile Disposable maintenance;

  private TokenBroker(BrokerProperties props, ConnectionFactory connectionFactory, ClientRegistry clients,
      BrokerEventListener events, WebClient.Builder webClient, Clock clock) {
    this.props = props;
    this.connectionFactory = connectionFactory;
    this.events = events;
    this.clock = clock;
    KeyEncryptionKey kek = props.keyEncryptionKey() == null ? null : KeyEncryptionKey.ofBase64(props.keyEncryptionKey());
    this.keyStore = kek == null ? null : new SigningKeyStore(connectionFactory, kek, props.algorithm(),
        props.rotationPeriod(), TokenIssuer.maxTtl(), clock);
    this.revocations = new RevocationStore(connectionFactory, events, clock);
    this.registry = new RevocationRegistry(connectionFactory, props.revocationResync(), clock);
    VerificationKeys verificationKeys = props.jwksUri() != null
        ? new RemoteJwks(webClient, props.jwksUri(), props.jwksMinRefresh(), Duration.ofMinutes(5), clock)
        : keyStore != null ? keyStore.keys() : kid -> Mono.empty();
    this.verifier = new AccessTokenVerifier(verificationKeys, props.issuer(), props.audience(), registry, clock);
    BrokerProperties.BruteForce bf = props.bruteForce();
    this.authenticator = new ClientAuthenticator(clients, Set.of(props.effectiveTokenEndpoint(), props.issuer()),
        new AuthFailureLimiter(bf.maxFailuresPerClient(), bf.maxFailuresPerAddress(), bf.window()), registry, clock);
    SubjectTokenValidator subjects = new SubjectTokenValidator(trustedIssuers(props, webClient, clock), clock);
    this.routes = keyStore == null ? null : new BrokerRoutes(authenticator,
        new TokenIssuer(keyStore.keys(), props.issuer(), props.audience(), clock), keyStore.keys(), revocations,
        subjects, events, clock, props.maxRequestBytes(), props.effectiveTokenEndpoint());
  }

  /**
   * Builds (does not start) a broker. Without {@code key-encryption-key} it is verifier-only: {@link #routes()} and
   * {@link #signingKeys()} are unavailable, and {@code jwks-uri} must point at the broker that signs.
   */
  public static TokenBroker create(BrokerProperties props, ConnectionFactory connectionFactory, ClientRegistry clients,
      BrokerEventListener events, WebClient.Builder webClient, Clock clock) {
    Objects.requireNonNull(props, "props");
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    Objects.requireNonNull(clients, "clients");
    Objects.requireNonNull(events, "events");
    Objects.requireNonNull(webClient, "webClient");
    Objects.requireNonNull(clock, "clock");
    if (props.keyEncryptionKey() == null && props.jwksUri() == null) {
      throw new IllegalArgumentException("portcullis.broker.key-encryption-key is required to sign tokens "
          + "(base64 of 32 random bytes, e.g. `openssl rand -base64 32`); a verifier-only gateway sets "
          + "portcullis.broker.jwks-uri instead");
    }
    return new TokenBroker(props, connectionFactory, clients, events, webClient, clock);
  }

  /**
   * Applies the schema, loads (or creates) the signing keys, starts the revocation view and the periodic maintenance
   * (key reload/rotation, purge of expired revocations). Completes when tokens can be issued and verified.
   */
  public Mono<Void> start() {
    Mono<Void> keys = keyStore == null ? Mono.empty() : keyStore.initialize().then();
    return BrokerSchema.apply(connectionFactory)
        .then(keys)
        .then(registry.start())
        .doOnSuccess(v -> startMaintenance());
  }

  private synchronized void startMaintenance() {
    if (maintenance != null) {
      return;
    }
    maintenance = Flux.interval(props.maintenanceInterval())
        .onBackpressureDrop()
        .concatMap(t -> {
          Mono<Void> rotate = keyStore == null ? Mono.empty() : keyStore.maintain();
          return rotate.then(revocations.purgeExpired()).then()
              .onErrorResume(e -> {
                log.warn("broker maintenance failed (retrying in {}): {}", props.maintenanceInterval(), e.toString());
                return Mono.empty();
              });
        })
        .subscribe();
  }

  public BrokerRoutes routes() {
    if (routes == null) {
      throw new IllegalStateException("verifier-only broker (no key-encryption-key): no token endpoint");
    }
    return routes;
  }

  public AccessTokenVerifier verifier() {
    return verifier;
  }

  public RevocationStore revocations() {
    return revocations;
  }

  public RevocationRegistry revocationRegistry() {
    return registry;
  }

  public SigningKeys signingKeys() {
    return signingKeyStore().keys();
  }

  public SigningKeyStore signingKeyStore() {
    if (keyStore == null) {
      throw new IllegalStateException("verifier-only broker (no key-encryption-key): no signing keys");
    }
    return keyStore;
  }

  public BrokerProperties properties() {
    return props;
  }

  @Override
  public void close() {
    Disposable m = maintenance;
    if (m != null) {
      m.dispose();
    }
    registry.close();
    authenticator.close();
  }

  private static List<SubjectTokenValidator.TrustedIssuer> trustedIssuers(BrokerProperties props,
      WebClient.Builder webClient, Clock clock) {
    Map<String, String> defaultMapping = props.tokenExchange().claimMapping();
    return props.tokenExchange().trustedIssuers().stream().map(t -> {
      VerificationKeys keys;
      if (t.jwks() != null) {
        try {
          keys = VerificationKeys.of(JWKSet.parse(t.jwks()));
        } catch (ParseException e) {
          throw new IllegalArgumentException("trusted issuer " + t.issuer() + ": jwks does not parse: " + e.getMessage());
        }
      } else {
        keys = new RemoteJwks(webClient, t.jwksUri(), props.jwksMinRefresh(), Duration.ofMinutes(5), clock);
      }
      return new SubjectTokenValidator.TrustedIssuer(t.issuer(), Set.copyOf(t.audiences()), keys,
          t.claimMapping().isEmpty() ? defaultMapping : t.claimMapping());
    }).toList();
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.function.Function;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.server.RouterFunctions;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** A started broker on real PostgreSQL, served over real HTTP on a random port. */
final class BrokerFixture implements AutoCloseable {

  static final String SECRET = "correct horse battery staple";
  /** Hashed once per JVM: 310k PBKDF2 iterations are not free. */
  static final String SECRET_HASH = SecretHasher.hash(SECRET.toCharArray());
  static final Set<String> SCOPES = Set.of("inventory.items:read", "inventory.items:create", "hr.approvals:read");
  static final String IDP = "https://idp.corp.example";
  static final String IDP_AUDIENCE = "portcullis-at-idp";
  static final RSAKey APP_KEY = rsa("app-key-1");
  static final RSAKey IDP_KEY = rsa("idp-key-1");
  static final RSAKey EVIL_KEY = rsa("evil-key-1");

  final ConnectionFactory connectionFactory;
  final TokenBroker broker;
  final DisposableServer server;
  final WebTestClient http;
  final String baseUrl;
  final List<BrokerEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();

  BrokerFixture(PostgresExtension pg, Function<BrokerProperties, BrokerProperties> customize) {
    connectionFactory = ConnectionFactories.get(pg.r2dbcUrl());
    Map<String, RegisteredClient> clients = List.of(
            new RegisteredClient("app-secret", 1, true, SECRET_HASH, null, SCOPES),
            new RegisteredClient("app-tier2", 2, true, SECRET_HASH, null, SCOPES),
            new RegisteredClient("app-tier0", 0, true, SECRET_HASH, null, SCOPES),
            new RegisteredClient("app-jwt", 1, true, null, new JWKSet(APP_KEY.toPublicJWK()).toString(), SCOPES),
            new RegisteredClient("app-retired", 1, false, SECRET_HASH, null, SCOPES),
            new RegisteredClient("app-victim", 1, true, SECRET_HASH, null, SCOPES),
            new RegisteredClient("app-other", 1, true, SECRET_HASH, null, Set.of("other.data:read")))
        .stream().collect(Collectors.toMap(RegisteredClient::clientId, c -> c));
    byte[] kek = new byte[32];
    new java.security.SecureRandom().nextBytes(kek);
    server = HttpServer.create().host("127.0.0.1").port(0).handle((req, res) -> handler.apply(req, res)).bindNow();
    baseUrl = "http://127.0.0.1:" + server.port();
    BrokerProperties props = customize.apply(BrokerProperties.defaults()
        .withIssuer(baseUrl)
        .withKeyEncryptionKey(Base64.getEncoder().encodeToString(kek))
        .withTokenExchange(new BrokerProperties.TokenExchange(
            List.of(new BrokerProperties.TrustedIssuer(IDP, List.of(IDP_AUDIENCE),
                new JWKSet(IDP_KEY.toPublicJWK()).toString(), null, Map.of())),
            Map.of("owner_id", "sub", "region", "region"))));
    broker = TokenBroker.create(props, connectionFactory, clients::get, events::add, WebClient.builder(),
        Clock.systemUTC());
    broker.start().block(Duration.ofSeconds(30));
    handler = new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(broker.routes().routerFunction()));
    http = WebTestClient.bindToServer().baseUrl(baseUrl).responseTimeout(Duration.ofSeconds(20)).build();
  }

  // Bound after the port is known: the issuer (and so the routes) name the server's own URL.
  private volatile ReactorHttpHandlerAdapter handler;

  static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes());
  }

  /** A user token from the corporate IdP (or anyone else, given another key/issuer). */
  static String userToken(RSAKey key, String issuer, String audience, Consumer<JWTClaimsSet.Builder> extra) {
    Instant now = Instant.now();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .issuer(issuer).audience(audience).subject("alice")
        .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)))
        .claim("region", "eu-west").claim("scope", "admin:all inventory.items:delete");
    extra.accept(claims);
    return sign(key, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
        claims.build());
  }

  static String sign(RSAKey key, JWSHeader header, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(header, claims);
      jwt.sign(new RSASSASigner(key));
      return jwt.serialize();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  String clientAssertion(String clientId, String audience, String jti) {
    Instant now = Instant.now();
    return sign(APP_KEY, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(APP_KEY.getKeyID()).build(),
        new JWTClaimsSet.Builder().issuer(clientId).subject(clientId).audience(audience).jwtID(jti)
            .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(60))).build());
  }

  @Override
  public void close() {
    server.disposeNow();
    broker.close();
  }
}

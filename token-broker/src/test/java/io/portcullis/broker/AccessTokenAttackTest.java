package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.portcullis.testsupport.PostgresExtension;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.test.StepVerifier;

/** Each test is an attack on the gateway's token check; it fails if the attack gets a token accepted. */
class AccessTokenAttackTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static BrokerFixture f;
  static AccessTokenVerifier verifier;

  @BeforeAll
  static void start() {
    f = new BrokerFixture(PG, p -> p);
    verifier = f.broker.verifier();
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  static RSAKey brokerKey() {
    return f.broker.signingKeys().active().privateJwk().toRSAKey();
  }

  static JWTClaimsSet.Builder validClaims() {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder()
        .issuer(f.baseUrl).audience("portcullis").subject("alice")
        .claim("client_id", "app-secret").claim("scope", "inventory.items:read").claim("tier", 1)
        .jwtID(UUID.randomUUID().toString())
        .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(600)))
        .claim("attrs", Map.of("owner_id", "alice"));
  }

  static JWSHeader.Builder validHeader() {
    return new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("at+jwt"))
        .keyID(f.broker.signingKeys().activeKid());
  }

  static String signed(Consumer<JWSHeader.Builder> header, Consumer<JWTClaimsSet.Builder> claims) {
    JWSHeader.Builder h = validHeader();
    header.accept(h);
    JWTClaimsSet.Builder c = validClaims();
    claims.accept(c);
    return BrokerFixture.sign(brokerKey(), h.build(), c.build());
  }

  static void rejected(String token, TokenError expected) {
    StepVerifier.create(verifier.verify(token))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(TokenRejectedException.class,
            r -> assertThat(r.error()).isEqualTo(expected)))
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void controlAWellFormedTokenIsAccepted() {
    StepVerifier.create(verifier.verify(signed(h -> {}, c -> {})))
        .assertNext(claims -> assertThat(claims.subject()).isEqualTo("alice"))
        .verifyComplete();
  }

  @Test
  void algNoneIsRefused() {
    String header = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\""
        + f.broker.signingKeys().activeKid() + "\"}").toString();
    String body = Base64URL.encode(validClaims().build().toString()).toString();
    rejected(header + "." + body + ".", TokenError.INVALID_TOKEN);
    rejected(header + "." + body + ".AAAA", TokenError.INVALID_TOKEN);
  }

  @Test
  void hs256SignedWithThePublicKeyIsRefused() throws Exception {
    // Algorithm confusion: a verifier that feeds the RSA public key to HMAC would accept this.
    byte[] publicKeyBytes = brokerKey().toRSAPublicKey().getEncoded();
    byte[] pem = ("-----BEGIN PUBLIC KEY-----\n"
        + java.util.Base64.getMimeEncoder().encodeToString(publicKeyBytes) + "\n-----END PUBLIC KEY-----\n")
        .getBytes(StandardCharsets.US_ASCII);
    for (byte[] secret : List.of(publicKeyBytes, pem)) {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt"))
          .keyID(f.broker.signingKeys().activeKid()).build(), validClaims().build());
      jwt.sign(new MACSigner(secret));
      rejected(jwt.serialize(), TokenError.INVALID_TOKEN);
    }
  }

  @Test
  void tokenSignedByAnUnknownKeyIsRefused() {
    RSAKey attacker = BrokerFixture.rsa("attacker-1");
    // kid naming a key that is not in the JWKS
    rejected(BrokerFixture.sign(attacker, validHeader().keyID("attacker-1").build(), validClaims().build()),
        TokenError.INVALID_TOKEN);
    // kid naming the broker's real key, signature by another key
    rejected(BrokerFixture.sign(attacker, validHeader().build(), validClaims().build()), TokenError.INVALID_TOKEN);
    // no kid at all
    rejected(BrokerFixture.sign(brokerKey(), new JWSHeader.Builder(JWSAlgorithm.RS256)
        .type(new JOSEObjectType("at+jwt")).build(), validClaims().build()), TokenError.INVALID_TOKEN);
  }

  @Test
  void algorithmMustMatchTheKeyType() {
    // The broker's RSA key named with an ES256 header: never accepted, whatever the signature bytes.
    String header = Base64URL.encode("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\""
        + f.broker.signingKeys().activeKid() + "\"}").toString();
    String body = Base64URL.encode(validClaims().build().toString()).toString();
    rejected(header + "." + body + "." + Base64URL.encode(new byte[64]), TokenError.INVALID_TOKEN);
  }

  @Test
  void embeddedKeyHeadersAreNeverFetchedNorTrusted() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    RSAKey attacker = BrokerFixture.rsa("attacker-2");
    byte[] jwks = new com.nimbusds.jose.jwk.JWKSet(attacker.toPublicJWK()).toString()
        .getBytes(StandardCharsets.UTF_8);
    server.createContext("/", exchange -> {
      hits.incrementAndGet();
      exchange.sendResponseHeaders(200, jwks.length);
      exchange.getResponseBody().write(jwks);
      exchange.close();
    });
    server.start();
    try {
      URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/jwks");
      String token = BrokerFixture.sign(attacker, validHeader().keyID("attacker-2")
          .jwkURL(url).x509CertURL(url).jwk(attacker.toPublicJWK()).build(), validClaims().build());
      rejected(token, TokenError.INVALID_TOKEN);
      // Same with the broker's kid: the embedded jwk must not override the JWKS.
      String token2 = BrokerFixture.sign(attacker, validHeader().jwkURL(url).jwk(attacker.toPublicJWK()).build(),
          validClaims().build());
      rejected(token2, TokenError.INVALID_TOKEN);
      assertThat(hits).hasValue(0);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void onlyAtJwtTypIsAccepted() {
    rejected(signed(h -> h.type(JOSEObjectType.JWT), c -> {}), TokenError.INVALID_TOKEN);
    rejected(signed(h -> h.type(null), c -> {}), TokenError.INVALID_TOKEN);
    // An ID-token-like JWT from the same issuer, even when properly signed.
    rejected(signed(h -> h.type(JOSEObjectType.JWT), c -> c.claim("nonce", "n").claim("azp", "app-secret")),
        TokenError.INVALID_TOKEN);
  }

  @Test
  void wrongAudienceOrIssuerIsRefused() {
    rejected(signed(h -> {}, c -> c.audience("another-api")), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.issuer("https://evil.example")), TokenError.INVALID_TOKEN);
  }

  @Test
  void expiredTokenIsRefusedAsExpired() {
    Instant past = Instant.now().minusSeconds(3600);
    rejected(signed(h -> {}, c -> c.issueTime(Date.from(past)).notBeforeTime(Date.from(past))
        .expirationTime(Date.from(Instant.now().minusSeconds(31)))), TokenError.TOKEN_EXPIRED);
    // within the 30 s skew: accepted
    StepVerifier.create(verifier.verify(signed(h -> {}, c -> c.issueTime(Date.from(past))
            .notBeforeTime(Date.from(past)).expirationTime(Date.from(Instant.now().minusSeconds(10))))))
        .expectNextCount(1).verifyComplete();
  }

  @Test
  void tokenNotYetValidIsRefused() {
    Instant future = Instant.now().plusSeconds(120);
    rejected(signed(h -> {}, c -> c.notBeforeTime(Date.from(future))), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.issueTime(Date.from(future))), TokenError.INVALID_TOKEN);
  }

  @Test
  void missingRequiredClaimsAreRefused() {
    rejected(signed(h -> {}, c -> c.claim("client_id", null)), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.jwtID(null)), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.claim("tier", null)), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.expirationTime(null)), TokenError.INVALID_TOKEN);
    rejected(signed(h -> {}, c -> c.claim("attrs", Map.of("nested", Map.of("x", 1)))), TokenError.INVALID_TOKEN);
  }

  @Test
  void oversizedTokenIsRefusedBeforeParsing() {
    String huge = signed(h -> {}, c -> c.claim("padding", "x".repeat(9000)));
    assertThat(huge.length()).isGreaterThan(AccessTokenVerifier.MAX_TOKEN_CHARS);
    rejected(huge, TokenError.INVALID_TOKEN);
    rejected("a".repeat(1_000_000), TokenError.INVALID_TOKEN);
  }

  @Test
  void revokedJtiIsRefusedWithin1sOnAnotherInstance() {
    // A second gateway instance: its own registry and verifier on the same database.
    try (RevocationRegistry other = new RevocationRegistry(
        io.r2dbc.spi.ConnectionFactories.get(PG.r2dbcUrl()), Duration.ofSeconds(5), Clock.systemUTC())) {
      other.start().block(Duration.ofSeconds(10));
      AccessTokenVerifier otherVerifier = new AccessTokenVerifier(f.broker.signingKeys(), f.baseUrl, "portcullis",
          other, Clock.systemUTC());
      String jti = UUID.randomUUID().toString();
      String token = signed(h -> {}, c -> c.jwtID(jti));
      StepVerifier.create(otherVerifier.verify(token)).expectNextCount(1).verifyComplete();

      long start = System.nanoTime();
      f.broker.revocations().revoke(jti, "app-secret", Instant.now().plusSeconds(600)).block();
      TokenEndpointTest.await(() -> other.isRevoked(jti));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
      // The positive cache does not hide it.
      StepVerifier.create(otherVerifier.verify(token))
          .expectErrorSatisfies(e -> assertThat(((TokenRejectedException) e).error())
              .isEqualTo(TokenError.TOKEN_REVOKED))
          .verify();
    }
  }

  @Test
  void pausedAppIsRefusedWithin1sAndResumes() {
    String token = signed(h -> {}, c -> c.claim("client_id", "app-paused-test"));
    StepVerifier.create(verifier.verify(token)).expectNextCount(1).verifyComplete();
    f.broker.revocations().pauseApp("app-paused-test", "security review").block();
    TokenEndpointTest.await(() -> f.broker.revocationRegistry().isPaused("app-paused-test"));
    rejected(token, TokenError.APP_PAUSED);
    f.broker.revocations().resumeApp("app-paused-test").block();
    TokenEndpointTest.await(() -> !f.broker.revocationRegistry().isPaused("app-paused-test"));
    StepVerifier.create(verifier.verify(token)).expectNextCount(1).verifyComplete();
  }

  @Test
  void repeatedBadTokenIsServedFromTheNegativeCache() {
    RSAKey attacker = BrokerFixture.rsa("attacker-3");
    String bad = BrokerFixture.sign(attacker, validHeader().build(), validClaims().build());
    Throwable a = catchError(bad);
    assertThat(a).isInstanceOf(TokenRejectedException.class);
    Throwable b = catchError(bad);
    assertThat(a).isSameAs(b);
  }

  static Throwable catchError(String token) {
    try {
      verifier.verify(token).block();
      return null;
    } catch (TokenRejectedException e) {
      return e;
    }
  }

  @ParameterizedTest
  @EnumSource(SigningAlgorithm.class)
  void eachSigningAlgorithmRoundTrips(SigningAlgorithm algorithm) {
    SigningKeys keys = SigningKeys.generate(algorithm, Clock.systemUTC());
    TokenIssuer issuer = new TokenIssuer(keys, "https://broker.example", "portcullis", Clock.systemUTC());
    IssuedToken t = issuer.issue(new RegisteredClient("app", 1, true, null, null, BrokerFixture.SCOPES), "app",
        java.util.Set.of(), null, Map.of("region", "eu", "teams", List.of("a", "b"), "level", 3));
    AccessTokenVerifier v = new AccessTokenVerifier(keys, "https://broker.example", "portcullis",
        RevocationCheck.NONE, Clock.systemUTC());
    StepVerifier.create(v.verify(t.accessToken()))
        .assertNext(c -> {
          assertThat(c.scopes()).isEqualTo(BrokerFixture.SCOPES);
          assertThat(c.attrs()).containsEntry("region", "eu").containsEntry("teams", List.of("a", "b"))
              .containsEntry("level", 3L);
        })
        .verifyComplete();
    // and a token of this algorithm is not accepted by a verifier holding another broker's keys
    AccessTokenVerifier stranger = new AccessTokenVerifier(SigningKeys.generate(algorithm, Clock.systemUTC()),
        "https://broker.example", "portcullis", RevocationCheck.NONE, Clock.systemUTC());
    StepVerifier.create(stranger.verify(t.accessToken())).expectError(TokenRejectedException.class).verify();
  }
}

package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.portcullis.policy.TokenClaims;
import io.portcullis.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.BodyInserters;

class TokenEndpointTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {};

  static BrokerFixture f;

  @BeforeAll
  static void start() {
    f = new BrokerFixture(PG, p -> p.withBruteForce(new BrokerProperties.BruteForce(3, 1000, Duration.ofMinutes(5))));
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  static MultiValueMap<String, String> form(String... kv) {
    MultiValueMap<String, String> m = new LinkedMultiValueMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  WebTestClient.ResponseSpec post(String path, String authorization, MultiValueMap<String, String> form) {
    WebTestClient.RequestBodySpec spec = f.http.post().uri(path).contentType(MediaType.APPLICATION_FORM_URLENCODED);
    if (authorization != null) {
      spec = spec.header(HttpHeaders.AUTHORIZATION, authorization);
    }
    return spec.body(BodyInserters.fromFormData(form)).exchange();
  }

  Map<String, Object> tokenOk(String authorization, MultiValueMap<String, String> form) {
    return post("/oauth2/token", authorization, form)
        .expectStatus().isOk()
        .expectHeader().valueEquals(HttpHeaders.CACHE_CONTROL, "no-store")
        .expectBody(JSON).returnResult().getResponseBody();
  }

  Map<String, Object> tokenError(int status, String authorization, MultiValueMap<String, String> form) {
    return post("/oauth2/token", authorization, form)
        .expectStatus().isEqualTo(status)
        .expectHeader().valueEquals(HttpHeaders.CACHE_CONTROL, "no-store")
        .expectBody(JSON).returnResult().getResponseBody();
  }

  TokenClaims verify(Object accessToken) {
    return f.broker.verifier().verify((String) accessToken).block(Duration.ofSeconds(5));
  }

  @Test
  void clientCredentialsWithSecretBasicIssuesRfc9068Token() throws Exception {
    Map<String, Object> body = tokenOk(BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "scope", "inventory.items:read"));

    assertThat(body).containsEntry("token_type", "Bearer").containsEntry("scope", "inventory.items:read")
        .containsEntry("expires_in", 3600);
    SignedJWT jwt = SignedJWT.parse((String) body.get("access_token"));
    assertThat(jwt.getHeader().getType().getType()).isEqualTo("at+jwt");
    assertThat(jwt.getHeader().getKeyID()).isEqualTo(f.broker.signingKeys().activeKid());
    assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("RS256");
    assertThat(jwt.getJWTClaimsSet().getClaims()).containsKeys("iss", "aud", "sub", "client_id", "scope", "tier",
        "jti", "iat", "nbf", "exp", "attrs");
    TokenClaims claims = verify(body.get("access_token"));
    assertThat(claims.subject()).isEqualTo("app-secret");
    assertThat(claims.clientId()).isEqualTo("app-secret");
    assertThat(claims.scopes()).containsExactly("inventory.items:read");
    assertThat(claims.tier()).isEqualTo(1);
    assertThat(f.events).anyMatch(e -> e.type() == BrokerEvent.Type.TOKEN_ISSUED && claims.jti().equals(e.jti()));
  }

  @Test
  void clientCredentialsWithSecretPost() {
    Map<String, Object> body = tokenOk(null, form("grant_type", "client_credentials", "client_id", "app-secret",
        "client_secret", BrokerFixture.SECRET));
    assertThat(verify(body.get("access_token")).clientId()).isEqualTo("app-secret");
  }

  @Test
  void clientCredentialsWithPrivateKeyJwtAndAssertionIsSingleUse() {
    String assertion = f.clientAssertion("app-jwt", f.baseUrl + "/oauth2/token", UUID.randomUUID().toString());
    MultiValueMap<String, String> form = form("grant_type", "client_credentials",
        "client_assertion_type", ClientAuthenticator.JWT_BEARER, "client_assertion", assertion);

    Map<String, Object> body = tokenOk(null, form);
    assertThat(verify(body.get("access_token")).clientId()).isEqualTo("app-jwt");

    assertThat(tokenError(401, null, form)).containsEntry("error", "invalid_client");
  }

  @Test
  void privateKeyJwtRefusedForWrongAudienceOrForeignKey() {
    String wrongAud = f.clientAssertion("app-jwt", "https://elsewhere.example/token", UUID.randomUUID().toString());
    assertThat(tokenError(401, null, form("grant_type", "client_credentials",
        "client_assertion_type", ClientAuthenticator.JWT_BEARER, "client_assertion", wrongAud)))
        .containsEntry("error", "invalid_client");

    // Issuer URL is an accepted audience too (RFC 7523 §3).
    String issuerAud = f.clientAssertion("app-jwt", f.baseUrl, UUID.randomUUID().toString());
    tokenOk(null, form("grant_type", "client_credentials",
        "client_assertion_type", ClientAuthenticator.JWT_BEARER, "client_assertion", issuerAud));

    // Signed by a key the app never registered (claims app-jwt's kid).
    String forged = BrokerFixture.sign(BrokerFixture.EVIL_KEY,
        new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256)
            .keyID(BrokerFixture.APP_KEY.getKeyID()).build(),
        new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer("app-jwt").subject("app-jwt").audience(f.baseUrl)
            .jwtID(UUID.randomUUID().toString())
            .expirationTime(java.util.Date.from(java.time.Instant.now().plusSeconds(60))).build());
    assertThat(tokenError(401, null, form("grant_type", "client_credentials",
        "client_assertion_type", ClientAuthenticator.JWT_BEARER, "client_assertion", forged)))
        .containsEntry("error", "invalid_client");
  }

  @Test
  void grantedScopeIsRequestedIntersectGrantable() {
    Map<String, Object> all = tokenOk(BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials"));
    assertThat(all.get("scope")).isEqualTo("hr.approvals:read inventory.items:create inventory.items:read");

    Map<String, Object> some = tokenOk(BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "scope", "inventory.items:read admin:all"));
    assertThat(some.get("scope")).isEqualTo("inventory.items:read");

    assertThat(tokenError(400, BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "scope", "admin:all other.data:read")))
        .containsEntry("error", "invalid_scope");
  }

  @Test
  void lifetimeIsCappedByTier() {
    String auth1 = BrokerFixture.basic("app-secret", BrokerFixture.SECRET);
    assertThat(tokenOk(auth1, form("grant_type", "client_credentials", "expires_in", "99999")))
        .containsEntry("expires_in", 3600);
    assertThat(tokenOk(auth1, form("grant_type", "client_credentials", "expires_in", "120")))
        .containsEntry("expires_in", 120);
    assertThat(tokenOk(BrokerFixture.basic("app-tier0", BrokerFixture.SECRET),
        form("grant_type", "client_credentials"))).containsEntry("expires_in", 3600);
    Map<String, Object> tier2 = tokenOk(BrokerFixture.basic("app-tier2", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "expires_in", "3600"));
    assertThat(tier2).containsEntry("expires_in", 900);
    TokenClaims c = verify(tier2.get("access_token"));
    assertThat(Duration.between(c.issuedAt(), c.expiresAt())).isEqualTo(Duration.ofSeconds(900));
    assertThat(c.tier()).isEqualTo(2);
  }

  @Test
  void tokenExchangeIssuesTokenForTheUserWithMappedAttrs() {
    String user = BrokerFixture.userToken(BrokerFixture.IDP_KEY, BrokerFixture.IDP, BrokerFixture.IDP_AUDIENCE,
        b -> {});
    Map<String, Object> body = tokenOk(BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", BrokerRoutes.TOKEN_EXCHANGE, "subject_token", user,
            "subject_token_type", BrokerRoutes.TT_JWT, "scope", "hr.approvals:read"));

    assertThat(body).containsEntry("issued_token_type", BrokerRoutes.TT_ACCESS_TOKEN)
        .containsEntry("scope", "hr.approvals:read");
    TokenClaims claims = verify(body.get("access_token"));
    assertThat(claims.subject()).isEqualTo("alice");
    assertThat(claims.clientId()).isEqualTo("app-secret");
    assertThat(claims.attrs()).isEqualTo(Map.of("owner_id", "alice", "region", "eu-west"));
  }

  @Test
  void exchangeNeverGrantsScopeTheAppDoesNotHave() {
    // The user's token claims admin scopes; only the app's grants count.
    String user = BrokerFixture.userToken(BrokerFixture.IDP_KEY, BrokerFixture.IDP, BrokerFixture.IDP_AUDIENCE,
        b -> {});
    String auth = BrokerFixture.basic("app-secret", BrokerFixture.SECRET);
    assertThat(tokenError(400, auth, form("grant_type", BrokerRoutes.TOKEN_EXCHANGE, "subject_token", user,
        "subject_token_type", BrokerRoutes.TT_JWT, "scope", "admin:all inventory.items:delete")))
        .containsEntry("error", "invalid_scope");
    Map<String, Object> none = tokenOk(auth, form("grant_type", BrokerRoutes.TOKEN_EXCHANGE, "subject_token", user,
        "subject_token_type", BrokerRoutes.TT_JWT));
    assertThat(verify(none.get("access_token")).scopes()).isEqualTo(BrokerFixture.SCOPES);
  }

  @Test
  void subjectTokenFromUntrustedIssuerOrKeyIsRefused() {
    String auth = BrokerFixture.basic("app-secret", BrokerFixture.SECRET);
    String untrustedIssuer = BrokerFixture.userToken(BrokerFixture.EVIL_KEY, "https://evil.example",
        BrokerFixture.IDP_AUDIENCE, b -> {});
    String forgedTrustedIssuer = BrokerFixture.userToken(BrokerFixture.EVIL_KEY, BrokerFixture.IDP,
        BrokerFixture.IDP_AUDIENCE, b -> {});
    String wrongAudience = BrokerFixture.userToken(BrokerFixture.IDP_KEY, BrokerFixture.IDP, "some-other-app",
        b -> {});
    String expired = BrokerFixture.userToken(BrokerFixture.IDP_KEY, BrokerFixture.IDP, BrokerFixture.IDP_AUDIENCE,
        b -> b.expirationTime(java.util.Date.from(java.time.Instant.now().minusSeconds(120))));
    for (String subject : new String[] {untrustedIssuer, forgedTrustedIssuer, wrongAudience, expired, "not.a.jwt"}) {
      assertThat(tokenError(400, auth, form("grant_type", BrokerRoutes.TOKEN_EXCHANGE, "subject_token", subject,
          "subject_token_type", BrokerRoutes.TT_JWT))).containsEntry("error", "invalid_grant");
    }
  }

  @Test
  void unknownRetiredAndWrongSecretClientsAreRefused() {
    assertThat(post("/oauth2/token", BrokerFixture.basic("nobody", BrokerFixture.SECRET),
        form("grant_type", "client_credentials"))
        .expectStatus().isUnauthorized()
        .expectHeader().exists(HttpHeaders.WWW_AUTHENTICATE)
        .expectBody(JSON).returnResult().getResponseBody())
        .containsEntry("error", "invalid_client");
    assertThat(tokenError(400, BrokerFixture.basic("app-retired", BrokerFixture.SECRET),
        form("grant_type", "client_credentials"))).containsEntry("error", "unauthorized_client");
    assertThat(tokenError(400, BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "password"))).containsEntry("error", "unsupported_grant_type");
    assertThat(tokenError(400, BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "scope", "a", "scope", "b")))
        .containsEntry("error", "invalid_request");
    assertThat(tokenError(401, null, form("grant_type", "client_credentials"))).containsEntry("error",
        "invalid_client");
  }

  @Test
  void pausedAppGetsNoToken() {
    f.broker.revocations().pauseApp("app-other", "incident").block();
    try {
      await(() -> f.broker.revocationRegistry().isPaused("app-other"));
      assertThat(tokenError(400, BrokerFixture.basic("app-other", BrokerFixture.SECRET),
          form("grant_type", "client_credentials"))).containsEntry("error", "unauthorized_client");
    } finally {
      f.broker.revocations().resumeApp("app-other").block();
    }
    await(() -> !f.broker.revocationRegistry().isPaused("app-other"));
    tokenOk(BrokerFixture.basic("app-other", BrokerFixture.SECRET), form("grant_type", "client_credentials"));
  }

  @Test
  void bruteForceOnASecretIsSlowedDown() {
    for (int i = 0; i < 3; i++) {
      assertThat(tokenError(401, BrokerFixture.basic("app-victim", "guess-" + i),
          form("grant_type", "client_credentials"))).containsEntry("error", "invalid_client");
    }
    // Even the right secret is refused now, before any hashing: guessing is capped per client id.
    post("/oauth2/token", BrokerFixture.basic("app-victim", BrokerFixture.SECRET),
        form("grant_type", "client_credentials"))
        .expectStatus().isEqualTo(429)
        .expectHeader().exists(HttpHeaders.RETRY_AFTER)
        .expectBody(JSON).value(b -> assertThat(b).containsEntry("error", "slow_down"));
    assertThat(f.events).filteredOn(e -> e.type() == BrokerEvent.Type.CLIENT_AUTH_FAILED)
        .allSatisfy(e -> assertThat(e.toString()).doesNotContain("guess-"));
    // each guess is one failed-authentication event, and the throttled attempt is one more, as throttled
    assertThat(f.events).filteredOn(e -> "app-victim".equals(e.clientId()))
        .extracting(BrokerEvent::type, BrokerEvent::error, BrokerEvent::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(BrokerEvent.Type.CLIENT_AUTH_FAILED, "invalid_client", 401),
            org.assertj.core.groups.Tuple.tuple(BrokerEvent.Type.CLIENT_AUTH_FAILED, "invalid_client", 401),
            org.assertj.core.groups.Tuple.tuple(BrokerEvent.Type.CLIENT_AUTH_FAILED, "invalid_client", 401),
            org.assertj.core.groups.Tuple.tuple(BrokerEvent.Type.TOKEN_REFUSED, "slow_down", 429));
  }

  @Test
  void eachRefusedTokenRequestIsExactlyOneEventNamingClientGrantAndError() {
    String auth = BrokerFixture.basic("app-secret", BrokerFixture.SECRET);
    String user = BrokerFixture.userToken(BrokerFixture.IDP_KEY, BrokerFixture.IDP, BrokerFixture.IDP_AUDIENCE,
        b -> {});
    String untrusted = BrokerFixture.userToken(BrokerFixture.EVIL_KEY, "https://evil.example",
        BrokerFixture.IDP_AUDIENCE, b -> {});
    BrokerEvent neverGranted = oneEvent(() -> tokenError(400, auth, form("grant_type", BrokerRoutes.TOKEN_EXCHANGE,
        "subject_token", user, "subject_token_type", BrokerRoutes.TT_JWT, "scope", "other.data:read")));
    assertThat(neverGranted).extracting(BrokerEvent::type, BrokerEvent::clientId, BrokerEvent::grantType,
            BrokerEvent::error, BrokerEvent::status)
        .containsExactly(BrokerEvent.Type.TOKEN_REFUSED, "app-secret", "token-exchange", "invalid_scope", 400);
    BrokerEvent untrustedIssuer = oneEvent(() -> tokenError(400, auth, form("grant_type",
        BrokerRoutes.TOKEN_EXCHANGE, "subject_token", untrusted, "subject_token_type", BrokerRoutes.TT_JWT)));
    assertThat(untrustedIssuer).extracting(BrokerEvent::type, BrokerEvent::clientId, BrokerEvent::error)
        .containsExactly(BrokerEvent.Type.TOKEN_REFUSED, "app-secret", "invalid_grant");
    BrokerEvent unknown = oneEvent(() -> tokenError(401, BrokerFixture.basic("nobody-" + "x".repeat(500),
        BrokerFixture.SECRET), form("grant_type", "client_credentials")));
    assertThat(unknown).extracting(BrokerEvent::type, BrokerEvent::reason, BrokerEvent::grantType)
        .containsExactly(BrokerEvent.Type.CLIENT_AUTH_FAILED, "unknown_client", "client_credentials");
    assertThat(unknown.clientId()).startsWith("nobody-").hasSizeLessThanOrEqualTo(BrokerEvent.MAX_CLIENT_ID_CHARS + 1);
    BrokerEvent retired = oneEvent(() -> tokenError(400, BrokerFixture.basic("app-retired", BrokerFixture.SECRET),
        form("grant_type", "client_credentials")));
    assertThat(retired).extracting(BrokerEvent::type, BrokerEvent::clientId, BrokerEvent::error, BrokerEvent::reason)
        .containsExactly(BrokerEvent.Type.TOKEN_REFUSED, "app-retired", "unauthorized_client", "retired");
    BrokerEvent badRevoke = oneEvent(() -> post("/oauth2/revoke", BrokerFixture.basic("app-tier0", "wrong"),
        form("token", "x")).expectStatus().isUnauthorized());
    assertThat(badRevoke).extracting(BrokerEvent::type, BrokerEvent::grantType, BrokerEvent::reason)
        .containsExactly(BrokerEvent.Type.CLIENT_AUTH_FAILED, "revoke", "client_secret_basic");
  }

  /** The one event {@code request} caused (events are emitted before the response is written). */
  static BrokerEvent oneEvent(Runnable request) {
    int before = f.events.size();
    request.run();
    assertThat(f.events.subList(before, f.events.size())).hasSize(1);
    return f.events.get(before);
  }

  @Test
  void oversizedBodyIsRejectedBeforeParsing() {
    String big = "x".repeat(64 * 1024);
    post("/oauth2/token", BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials", "scope", big))
        .expectStatus().isEqualTo(413);
  }

  @Test
  void revokeEndpointRevokesOwnTokensOnly() {
    String mine = (String) tokenOk(BrokerFixture.basic("app-secret", BrokerFixture.SECRET),
        form("grant_type", "client_credentials")).get("access_token");
    String theirs = (String) tokenOk(BrokerFixture.basic("app-tier2", BrokerFixture.SECRET),
        form("grant_type", "client_credentials")).get("access_token");

    post("/oauth2/revoke", BrokerFixture.basic("app-secret", BrokerFixture.SECRET), form("token", theirs))
        .expectStatus().isOk();
    post("/oauth2/revoke", BrokerFixture.basic("app-secret", BrokerFixture.SECRET), form("token", "garbage"))
        .expectStatus().isOk();
    post("/oauth2/revoke", BrokerFixture.basic("app-secret", BrokerFixture.SECRET), form("token", mine))
        .expectStatus().isOk();

    String jti = verifyError(mine);
    assertThat(jti).isEqualTo("token_revoked");
    assertThat(verify(theirs).clientId()).isEqualTo("app-tier2");
  }

  String verifyError(String token) {
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (true) {
      try {
        verify(token);
      } catch (TokenRejectedException e) {
        return e.error().code();
      }
      if (System.nanoTime() > deadline) {
        return "accepted";
      }
      sleep(10);
    }
  }

  @Test
  void jwksPublishesPublicKeysOnlyWithShortCaching() {
    f.http.get().uri("/.well-known/jwks.json").exchange()
        .expectStatus().isOk()
        .expectHeader().valueMatches(HttpHeaders.CACHE_CONTROL, ".*max-age=\\d+.*")
        .expectBody(String.class).value(s -> {
          assertThat(s).contains(f.broker.signingKeys().activeKid()).contains("\"n\"");
          assertThat(s).doesNotContain("\"d\"").doesNotContain("\"p\"").doesNotContain("\"q\"");
        });
    f.http.get().uri("/.well-known/oauth-authorization-server").exchange()
        .expectStatus().isOk()
        .expectBody(JSON).value(m -> assertThat(m)
            .containsEntry("issuer", f.baseUrl)
            .containsEntry("token_endpoint", f.baseUrl + "/oauth2/token")
            .containsEntry("jwks_uri", f.baseUrl + "/.well-known/jwks.json"));
  }

  static void await(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 1 s");
      }
      sleep(5);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

}

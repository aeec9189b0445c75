package io.portcullis.gateway.token;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.broker.BrokerTestKeys;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.BodyInserters;

/**
 * Token attacks against the running gateway (the broker's own suite covers each in depth): every one is refused with
 * its DESIGN.md §6 code, a Bearer challenge, and exactly one audit event; attacks on the in-process broker's token
 * endpoint are each an audit event too.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TokenAttacksOverHttpTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final String IDP = "https://idp.corp.test";
  static final String IDP_AUDIENCE = "portcullis-at-idp";
  static final RSAKey IDP_KEY = rsa("idp-key-1");

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    // a corporate IdP for token exchange, and a small brute-force allowance so the test reaches it quickly
    registry.add("portcullis.broker.token-exchange.trusted-issuers[0].issuer", () -> IDP);
    registry.add("portcullis.broker.token-exchange.trusted-issuers[0].audiences[0]", () -> IDP_AUDIENCE);
    registry.add("portcullis.broker.token-exchange.trusted-issuers[0].jwks",
        () -> new JWKSet(IDP_KEY.toPublicJWK()).toString());
    registry.add("portcullis.broker.brute-force.max-failures-per-client", () -> "3");
  }

  @LocalServerPort
  int port;

  @Autowired
  TokenBroker broker;

  @Autowired
  AdminServer admin;

  static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  WebTestClient client() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
  }

  JWTClaimsSet claimsLike(String genuine) throws Exception {
    JWTClaimsSet c = SignedJWT.parse(genuine).getJWTClaimsSet();
    // same claims, but a scope the app was never granted: a forger's reason to forge
    return new JWTClaimsSet.Builder(c).claim("scope", "inventory.items:read hr.approvals:read").build();
  }

  @Test
  void forgedTokensAreRefusedAndEachIsAudited() throws Exception {
    String genuine = GatewayTestSupport.token(client(), PG, "team-inventory");
    SignedJWT parsed = SignedJWT.parse(genuine);
    String kid = parsed.getHeader().getKeyID();
    JWTClaimsSet claims = claimsLike(genuine);
    RSAKey published = (RSAKey) JWKSet.parse(client().get().uri("/.well-known/jwks.json").exchange()
        .expectBody(String.class).returnResult().getResponseBody()).getKeyByKeyId(kid);

    // alg none
    String none = new PlainJWT(claims).serialize();
    // algorithm confusion: HS256 keyed with the broker's public key bytes
    SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(kid).type(new JOSEObjectType("at+jwt")).build(), claims);
    hs.sign(new MACSigner(published.toRSAPublicKey().getEncoded()));
    // a key of our own under the broker's kid
    RSAKey attacker = new RSAKeyGenerator(2048).keyID(kid).generate();
    SignedJWT foreign = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).type(new JOSEObjectType("at+jwt")).build(), claims);
    foreign.sign(new RSASSASigner(attacker));
    // a genuine signature over altered claims
    String[] parts = genuine.split("\\.");
    String tampered = parts[0] + "." + Base64URL.encode(claims.toString()) + "." + parts[2];
    // jku pointing elsewhere, signed by the attacker
    SignedJWT jku = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("attacker")
        .jwkURL(java.net.URI.create("http://127.0.0.1:1/jwks.json")).type(new JOSEObjectType("at+jwt")).build(), claims);
    jku.sign(new RSASSASigner(attacker));
    // an ID-token-like JWT (typ JWT), attacker-signed
    SignedJWT idToken = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
    idToken.sign(new RSASSASigner(attacker));

    for (String attack : List.of(none, hs.serialize(), foreign.serialize(), tampered, jku.serialize(), idToken.serialize())) {
      var result = client().get().uri("/data/hr.approvals")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + attack)
          .exchange()
          .expectStatus().isUnauthorized()
          .expectHeader().value(HttpHeaders.WWW_AUTHENTICATE, v -> assertThat(v).startsWith("Bearer error=\"invalid_token\""))
          .expectBody().jsonPath("$.code").isEqualTo("invalid_token")
          .returnResult();
      assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "denied", "invalid_token");
    }
  }

  @Test
  void aRevokedTokenIsRefusedWithinASecondAndBothStepsAreAudited() throws Exception {
    String token = GatewayTestSupport.token(client(), PG, "team-inventory");
    client().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().expectStatus().isOk();
    client().post().uri("/oauth2/revoke")
        .headers(h -> h.setBasicAuth("team-inventory", GatewayTestSupport.secret(PG, "team-inventory")))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("token", token))
        .exchange().expectStatus().isOk();
    long start = System.nanoTime();
    int status = 200;
    while (status == 200 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      status = client().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .exchange().returnResult(String.class).getStatus().value();
    }
    var result = client().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().expectStatus().isUnauthorized()
        .expectBody().jsonPath("$.code").isEqualTo("token_revoked").returnResult();
    assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "denied", "token_revoked");
    String jti = SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'token_revoked' AND token_id = ?", jti, 1);
  }

  /** The genuine token's claims with a fresh jti, changed by {@code change}, signed with the broker's own key. */
  String minted(String genuine, Consumer<JWTClaimsSet.Builder> change) throws Exception {
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder(SignedJWT.parse(genuine).getJWTClaimsSet())
        .jwtID(UUID.randomUUID().toString());
    change.accept(claims);
    return BrokerTestKeys.sign(broker, claims.build());
  }

  WebTestClient.ResponseSpec read(String token) {
    return client().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange();
  }

  @Test
  void validlySignedTokensWithWrongClaimsAreRefusedAndEachIsAudited() throws Exception {
    String genuine = GatewayTestSupport.token(client(), PG, "team-inventory");
    Instant now = Instant.now();
    // control: minted the same way with nothing changed, a token is accepted — so each refusal below is the claim's
    read(minted(genuine, c -> {})).expectStatus().isOk();

    Map<String, String> attacks = new LinkedHashMap<>(); // what is wrong -> token
    attacks.put("aud", minted(genuine, c -> c.audience("another-api")));
    attacks.put("iss", minted(genuine, c -> c.issuer("https://evil.example")));
    attacks.put("nbf", minted(genuine, c -> c.notBeforeTime(Date.from(now.plusSeconds(120)))));
    for (String required : List.of("sub", "client_id", "scope", "tier", "jti", "iat", "exp")) {
      attacks.put("no " + required, minted(genuine, c -> c.claim(required, null)));
    }
    attacks.put("expired", minted(genuine, c -> c.issueTime(Date.from(now.minusSeconds(900)))
        .notBeforeTime(Date.from(now.minusSeconds(900))).expirationTime(Date.from(now.minusSeconds(120)))));

    for (Map.Entry<String, String> attack : attacks.entrySet()) {
      String code = attack.getKey().equals("expired") ? "token_expired" : "invalid_token";
      var result = read(attack.getValue())
          .expectStatus().isUnauthorized()
          .expectHeader().value(HttpHeaders.WWW_AUTHENTICATE, v -> assertThat(v).startsWith("Bearer error=\"invalid_token\""))
          .expectBody().jsonPath("$.code").value(c -> assertThat(c).as(attack.getKey()).isEqualTo(code))
          .returnResult();
      assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "denied", code);
    }
  }

  @Test
  void aPausedAppsTokenIsRefusedWithinASecondAuditedAndWorksAgainAfterResume() throws Exception {
    String token = GatewayTestSupport.token(client(), PG, "survey-sandbox");
    WebTestClient adminApi = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(client(), PG, "portcullis-admin"))
        .build();
    assertThat(readForms(token)).isEqualTo(200);
    adminApi.post().uri("/admin/apps/survey-sandbox/pause?reason=attack-test").exchange().expectStatus().isNoContent();
    long start = System.nanoTime();
    while (readForms(token) != 403 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    var result = client().get().uri("/data/forms.submissions?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().expectStatus().isForbidden()
        .expectBody().jsonPath("$.code").isEqualTo("app_paused").returnResult();
    assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "denied", "app_paused");
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'app_paused' AND app_id = ?",
        "survey-sandbox", 1);

    adminApi.post().uri("/admin/apps/survey-sandbox/resume?reason=attack-test").exchange().expectStatus().isNoContent();
    start = System.nanoTime();
    while (readForms(token) != 200 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    assertThat(readForms(token)).isEqualTo(200);
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'app_resumed' AND app_id = ?",
        "survey-sandbox", 1);
  }

  int readForms(String token) {
    return client().get().uri("/data/forms.submissions?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().returnResult(String.class).getStatus().value();
  }

  String userToken(RSAKey key, String issuer) throws Exception {
    Instant now = Instant.now();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
        new JWTClaimsSet.Builder().issuer(issuer).audience(IDP_AUDIENCE).subject("alice")
            .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300))).build());
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  WebTestClient.ResponseSpec exchange(String app, String secret, String subjectToken, String scope) {
    return client().post().uri("/oauth2/token")
        .headers(h -> h.setBasicAuth(app, secret))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
            .with("subject_token", subjectToken)
            .with("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")
            .with("scope", scope))
        .exchange();
  }

  @Test
  void tokenExchangeAttacksAreRefusedAndEachIsAuditedAgainstTheApp() throws Exception {
    String secret = GatewayTestSupport.secret(PG, "team-inventory");
    // control: the IdP is trusted, and the app may have its own scope for the user
    exchange("team-inventory", secret, userToken(IDP_KEY, IDP), "inventory.items:read")
        .expectStatus().isOk().expectBody().jsonPath("$.scope").isEqualTo("inventory.items:read");

    // a scope the app was never granted, asked for on behalf of a genuine user
    exchange("team-inventory", secret, userToken(IDP_KEY, IDP), "hr.approvals:read")
        .expectStatus().isBadRequest().expectBody().jsonPath("$.error").isEqualTo("invalid_scope");
    // a subject token from an issuer that is not trusted (signed by its own key)
    exchange("team-inventory", secret, userToken(rsa("evil-key"), "https://evil.example"), "inventory.items:read")
        .expectStatus().isBadRequest().expectBody().jsonPath("$.error").isEqualTo("invalid_grant");

    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'token_refused' AND app_id = ?"
        + " AND action = 'token-exchange' AND outcome = 'denied' AND error_code = 'invalid_scope'", "team-inventory", 1);
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'token_refused' AND app_id = ?"
        + " AND action = 'token-exchange' AND outcome = 'denied' AND error_code = 'invalid_grant'", "team-inventory", 1);
  }

  @Test
  void secretGuessingIsAuditedPerGuessThenThrottledPerClientAndUnknownClientsAreAudited() throws Exception {
    for (int i = 0; i < 3; i++) {
      tokenRequest("hr-headcount", "guess-" + i).expectStatus().isUnauthorized()
          .expectBody().jsonPath("$.error").isEqualTo("invalid_client");
    }
    // the allowance of this client id is used up: even the right secret waits, without being hashed
    tokenRequest("hr-headcount", GatewayTestSupport.secret(PG, "hr-headcount")).expectStatus().isEqualTo(429)
        .expectHeader().exists(HttpHeaders.RETRY_AFTER)
        .expectBody().jsonPath("$.error").isEqualTo("slow_down");
    String nobody = "nobody-" + UUID.randomUUID();
    tokenRequest(nobody, "whatever").expectStatus().isUnauthorized();

    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'auth_failed' AND app_id = ?"
        + " AND outcome = 'denied' AND status = 401", "hr-headcount", 3);
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'token_refused' AND app_id = ?"
        + " AND outcome = 'throttled' AND status = 429 AND error_code = 'slow_down'", "hr-headcount", 1);
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'auth_failed' AND app_id = ?"
        + " AND error_code = 'unknown_client'", nobody, 1);
    // guesses never reach the audit trail
    awaitCount("SELECT count(*) FROM portcullis.audit_events e WHERE e::text LIKE ?", "%guess-%", 0);
  }

  WebTestClient.ResponseSpec tokenRequest(String app, String secret) {
    return client().post().uri("/oauth2/token")
        .headers(h -> h.setBasicAuth(app, secret))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("grant_type", "client_credentials"))
        .exchange();
  }

  @Test
  void anOversizedTokenIsRefusedBeforeItIsParsedAndAudited() throws Exception {
    String genuine = GatewayTestSupport.token(client(), PG, "team-inventory");
    // control: a padding claim as such is harmless
    read(minted(genuine, c -> c.claim("pad", "x".repeat(100)))).expectStatus().isOk();
    // validly signed by the broker, but over the 8 KiB token cap: refused on its size alone
    String oversized = minted(genuine, c -> c.claim("pad", "x".repeat(9_000)));
    assertThat(oversized.length()).isGreaterThan(8 * 1024);
    var result = read(oversized).expectStatus().isUnauthorized()
        .expectBody().jsonPath("$.code").isEqualTo("invalid_token").jsonPath("$.detail").value(d ->
            assertThat((String) d).contains("larger than"))
        .returnResult();
    assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "denied", "invalid_token");
  }

  @Test
  void oversizedHeadersAreRefusedBeforeAnyTokenWorkAndEachIsAudited() throws Exception {
    String genuine = GatewayTestSupport.token(client(), PG, "team-inventory");
    String pad = "p".repeat(17 * 1024); // over the 16 KiB product limit, under the 64 KiB decoder ceiling
    long before = invalidTokenAllowanceLeft();
    List<String> tokens = List.of(genuine, forged(), forged(), forged());
    for (String token : tokens) {
      var result = client().get().uri("/data/inventory.items?limit=1")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .header("X-Pad", pad)
          .exchange()
          .expectStatus().isEqualTo(431)
          .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .expectBody().jsonPath("$.code").isEqualTo("headers_too_large")
          .returnResult();
      assertOneAuditEvent(result.getResponseHeaders().getFirst("Portcullis-Request-Id"), "error", "headers_too_large");
    }
    // the three forged tokens were never verified: they did not count against the address's invalid-token allowance
    // (only the probe below did; a window that ended in between would only leave more)
    assertThat(invalidTokenAllowanceLeft()).isGreaterThanOrEqualTo(before - 1);
    // the broker's endpoints are held to the same limit
    client().post().uri("/oauth2/token").header("X-Pad", pad)
        .headers(h -> h.setBasicAuth("team-inventory", "whatever"))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("grant_type", "client_credentials"))
        .exchange().expectStatus().isEqualTo(431)
        .expectBody().jsonPath("$.code").isEqualTo("headers_too_large");
  }

  String forged() {
    String payload = Base64URL.encode("{\"sub\":\"" + UUID.randomUUID() + "\"}").toString();
    return "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImsifQ." + payload + ".AAAA";
  }

  /** RateLimit-Remaining of a refusal for a fresh forged token: the address's remaining invalid-token allowance. */
  long invalidTokenAllowanceLeft() {
    String remaining = read(forged()).expectStatus().isUnauthorized()
        .returnResult(String.class).getResponseHeaders().getFirst("RateLimit-Remaining");
    assertThat(remaining).isNotNull();
    return Long.parseLong(remaining);
  }

  @Test
  void headersPastTheDecodersCeilingStillGetAProblemBodyAndAnAuditEvent() throws Exception {
    String head = "GET /data/inventory.items HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + "p".repeat(70 * 1024)
        + "\r\n\r\n";
    String response;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      // the gateway answers and closes: read to the end
      response = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    assertThat(response).startsWith("HTTP/1.1 431 ");
    String headers = response.substring(0, response.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
    assertThat(headers).contains("content-type: application/problem+json").contains("connection: close");
    String body = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertThat(body).contains("\"code\":\"headers_too_large\"").contains("\"status\":431");
    String requestId = headers.lines().filter(l -> l.startsWith("portcullis-request-id:"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElseThrow();
    assertThat(body).contains(requestId);
    assertOneAuditEvent(requestId, "error", "headers_too_large");
  }

  void assertOneAuditEvent(String requestId, String outcome, String code) throws Exception {
    awaitCount("SELECT count(*) FROM portcullis.audit_events WHERE request_id = ?", requestId, 1);
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT outcome, error_code FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(Map.of("outcome", rs.getString(1), "code", rs.getString(2)))
            .containsEntry("outcome", outcome).containsEntry("code", code);
      }
    }
  }

  void awaitCount(String sql, String arg, long expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    long n = -1;
    while (System.nanoTime() < deadline) {
      try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(sql)) {
        st.setString(1, arg);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          n = rs.getLong(1);
        }
      }
      if (n == expected) {
        return;
      }
      Thread.sleep(50);
    }
    assertThat(n).as(sql + " [" + arg + "]").isEqualTo(expected);
  }

}

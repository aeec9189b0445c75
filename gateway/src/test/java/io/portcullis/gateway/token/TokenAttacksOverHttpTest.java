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
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
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
 * its DESIGN.md §6 code, a Bearer challenge, and exactly one audit event.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TokenAttacksOverHttpTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
  }

  @LocalServerPort
  int port;

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

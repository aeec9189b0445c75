package io.portcullis.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * A gateway that runs no token broker of its own (deploy/'s standalone-broker setup): it verifies tokens against an
 * external broker's JWKS ({@code portcullis.broker.jwks-uri}) and has no key-encryption key, so no broker keys to sign
 * with. Four-eyes approval must still work end to end, signed with the gateway's instance key and verifiable with the
 * key it publishes; what only a signing broker can do is refused with a clean problem.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class RemoteBrokerApprovalTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  /** The external broker: its key and the JWKS endpoint the gateway fetches it from. */
  static final RSAKey BROKER_KEY = rsa();
  static final HttpServer BROKER = jwksServer();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.broker.jwks-uri",
        () -> "http://127.0.0.1:" + BROKER.getAddress().getPort() + "/.well-known/jwks.json");
  }

  @AfterAll
  static void stopBroker() {
    BROKER.stop(0);
  }

  @Autowired
  AdminServer admin;

  WebTestClient adminWith(String token) {
    return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .responseTimeout(Duration.ofSeconds(30))
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token).build();
  }

  @Test
  @SuppressWarnings("unchecked")
  void aTier2ChangeIsApprovedBySecondAdminAndTheApprovalVerifiesWithThePublishedKey() throws Exception {
    WebTestClient author = adminWith(adminToken("portcullis-admin"));
    Map<String, Object> grant = new LinkedHashMap<>(author.get().uri("/admin/grants/hr-headcount-approvals").exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody());
    grant.put("actions", List.of("read"));
    EntityExchangeResult<Map> parked = author.put().uri("/admin/grants/hr-headcount-approvals?reason=read-only")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(grant).exchange()
        .expectStatus().isAccepted().expectBody(Map.class).returnResult();
    long id = ((Number) ((Map<String, Object>) parked.getResponseBody().get("change_request")).get("id")).longValue();

    EntityExchangeResult<Map> approved = adminWith(adminToken("ops-admin")).post()
        .uri("/admin/change-requests/" + id + "/approve?reason=checked-with-HR").exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult();
    assertThat(approved.getResponseBody()).containsEntry("status", "approved").containsEntry("decided_by", "ops-admin");
    long version = ((Number) approved.getResponseBody().get("applied_version")).longValue();
    author.get().uri("/admin/grants/hr-headcount-approvals").exchange().expectStatus().isOk().expectBody()
        .jsonPath("$.actions.length()").isEqualTo(1);

    JWSObject signed = JWSObject.parse((String) approved.getResponseBody().get("approval"));
    assertThat(signed.getHeader().getType().toString()).isEqualTo("portcullis-approval+jws");
    assertThat(AdminApiTest.verifiesWithApprovalKeys(WebTestClient.bindToServer()
        .baseUrl("http://127.0.0.1:" + admin.port()).build(), signed)).isTrue();
    assertThat(signed.getPayload().toJSONObject()).containsEntry("author", "portcullis-admin")
        .containsEntry("approver", "ops-admin").containsEntry("change_request", id);
    author.get().uri("/admin/config/versions/" + version).accept(MediaType.APPLICATION_JSON).exchange()
        .expectStatus().isOk().expectBody().jsonPath("$.approval").isEqualTo(signed.serialize());
  }

  @Test
  void whatOnlyASigningBrokerDoesIsRefusedCleanly() {
    WebTestClient admin = adminWith(adminToken("portcullis-admin"));
    admin.post().uri("/admin/keys/rotate?reason=routine").exchange()
        .expectStatus().isEqualTo(409)
        .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody().jsonPath("$.code").isEqualTo("illegal_transition")
        .jsonPath("$.detail").value(d -> assertThat((String) d).contains("jwks-uri"));
    // the console's same-origin token endpoint exists only where this process issues tokens
    WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.admin.port()).build().post().uri("/oauth2/token")
        .contentType(MediaType.APPLICATION_FORM_URLENCODED).bodyValue("grant_type=client_credentials").exchange()
        .expectStatus().isNotFound();
  }

  /**
   * The console against a verifier-only gateway: no same-origin token endpoint, so a client secret gets a clear
   * message and a pasted admin token from the external broker logs in.
   */
  @Test
  void theConsoleLogsInWithATokenFromTheExternalBroker() throws Exception {
    assumeTrue(Files.isExecutable(ConsoleBrowserTest.CHROMIUM), "no /usr/bin/chromium: the browser part is skipped");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(ConsoleBrowserTest.CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--window-size=1400,1000",
        "--user-data-dir=" + Files.createTempDirectory("portcullis-chromium").toAbsolutePath());
    WebDriver b = new ChromeDriver(new ChromeDriverService.Builder()
        .usingDriverExecutable(ConsoleBrowserTest.CHROMEDRIVER.toFile()).usingAnyFreePort().build(), options);
    try {
      b.get("http://127.0.0.1:" + admin.port() + "/console/");
      b.findElement(By.id("client-secret")).sendKeys("pcs_not-here");
      b.findElement(By.id("login")).click();
      new WebDriverWait(b, Duration.ofSeconds(10)).until(ExpectedConditions.textMatches(By.id("status"),
          Pattern.compile("issues no tokens.*paste an admin access token")));
      b.findElement(By.id("client-secret")).clear();
      b.findElement(By.id("access-token")).sendKeys(adminToken("portcullis-admin"));
      b.findElement(By.id("login")).click();
      new WebDriverWait(b, Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(
          By.cssSelector("#entity-list li[data-id='hr-headcount']")));
      assertThat(b.findElement(By.id("who")).getText()).startsWith("portcullis-admin");
    } finally {
      b.quit();
    }
  }

  /** An access token as the external broker would mint it for an admin app (RFC 9068, RS256). */
  static String adminToken(String app) {
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer("http://localhost:8080").audience("portcullis").subject(app).claim("client_id", app)
        .claim("scope", "portcullis:admin").claim("tier", 1).jwtID(UUID.randomUUID().toString())
        .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(600)))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("at+jwt"))
        .keyID(BROKER_KEY.getKeyID()).build(), claims);
    try {
      jwt.sign(new RSASSASigner(BROKER_KEY));
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  private static RSAKey rsa() {
    try {
      return new RSAKeyGenerator(2048).keyID("external-broker-1").generate();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpServer jwksServer() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      byte[] body = new JWKSet(BROKER_KEY.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
      server.createContext("/.well-known/jwks.json", exchange -> {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      server.start();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.portcullis.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

/** The admin API as platform admins use it: pause/resume, config import with validation, key rotation. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AdminApiTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
  }

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  WebTestClient data() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
  }

  WebTestClient admin() {
    return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(data(), PG, "portcullis-admin"))
        .build();
  }

  int read(String token) {
    return data().get().uri("/data/forms.submissions?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().returnResult(String.class).getStatus().value();
  }

  @Test
  void pausingAnAppRefusesItsLiveTokensWithinASecondAndResumeRestoresThem() throws Exception {
    String token = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    assertThat(read(token)).isEqualTo(200);
    admin().post().uri("/admin/apps/survey-sandbox/pause?reason=incident-42").exchange().expectStatus().isNoContent();
    long start = System.nanoTime();
    while (read(token) != 403 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    data().get().uri("/data/forms.submissions").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("app_paused");
    admin().post().uri("/admin/apps/survey-sandbox/resume?reason=fixed").exchange().expectStatus().isNoContent();
    start = System.nanoTime();
    while (read(token) != 200 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    assertThat(read(token)).isEqualTo(200);
  }

  @Test
  void changesNeedAReasonAndUnknownAppsAre404() {
    admin().post().uri("/admin/apps/survey-sandbox/pause").exchange()
        .expectStatus().isBadRequest().expectBody().jsonPath("$.code").isEqualTo("invalid_query");
    admin().post().uri("/admin/apps/nope/pause?reason=x").exchange()
        .expectStatus().isNotFound().expectBody().jsonPath("$.code").isEqualTo("not_found");
  }

  @Test
  void anImportedConfigIsValidatedVersionedAndAppliedWithoutRestart() throws Exception {
    WebTestClient admin = admin();
    String yaml = admin.get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertThat(yaml).contains("team-inventory-items");

    // a broken draft: nothing applied, every problem named with its location
    String broken = yaml.replace("row_filter: \"row.owner_id == token.attrs.owner_id", "row_filter: \"row.no_such == token.attrs.owner_id");
    admin.put().uri("/admin/config?reason=typo").contentType(MediaType.parseMediaType("application/yaml"))
        .bodyValue(broken).exchange()
        .expectStatus().isEqualTo(422)
        .expectBody().jsonPath("$.code").isEqualTo("invalid_body")
        .jsonPath("$.violations[0].location").exists()
        .jsonPath("$.violations[0].message").value(m -> assertThat((String) m).contains("no_such"));

    // the inventory grant stops masking supplier_email to its domain: the blanket pii redaction shows instead
    String token = GatewayTestSupport.token(data(), PG, "team-inventory");
    String changed = yaml.replace("masks: {supplier_email: email_domain}", "masks: {supplier_email: redact}");
    assertThat(changed).isNotEqualTo(yaml);
    @SuppressWarnings("unchecked")
    Map<String, Object> stored = admin.put().uri("/admin/config?reason=tighten-supplier-mask")
        .contentType(MediaType.parseMediaType("application/yaml")).bodyValue(changed).exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
    assertThat(((Number) stored.get("version")).longValue()).isGreaterThan(1);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String email = null;
    while (System.nanoTime() < deadline) {
      List<Map> rows = data().get().uri("/data/inventory.items?limit=1")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange()
          .expectStatus().isOk().expectBodyList(Map.class).returnResult().getResponseBody();
      email = (String) rows.get(0).get("supplier_email");
      if ("****".equals(email)) {
        break;
      }
      Thread.sleep(50);
    }
    assertThat(email).isEqualTo("****");
  }

  @Test
  void rotatingKeysKeepsEarlierTokensValid() {
    String before = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    admin().post().uri("/admin/keys/rotate?reason=scheduled").exchange().expectStatus().isNoContent();
    assertThat(read(before)).isEqualTo(200);
    String after = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    assertThat(read(after)).isEqualTo(200);
    data().get().uri("/.well-known/jwks.json").exchange().expectStatus().isOk()
        .expectBody().jsonPath("$.keys.length()").value(n -> assertThat((Integer) n).isGreaterThanOrEqualTo(2));
  }
}

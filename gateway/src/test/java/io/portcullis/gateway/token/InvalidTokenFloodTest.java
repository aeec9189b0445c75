package io.portcullis.gateway.token;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.util.Base64;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/** Distinct forged tokens from one address stop being verified once the address passes its allowance. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class InvalidTokenFloodTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.token.max-invalid-per-address", () -> "5");
  }

  @LocalServerPort
  int port;

  @Test
  void anAddressPresentingManyForgedTokensIsThrottledBeforeVerification() {
    WebTestClient client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
    String genuine = GatewayTestSupport.token(client, PG, "team-inventory");
    String header = genuine.substring(0, genuine.indexOf('.'));
    for (int i = 0; i < 5; i++) {
      String payload = Base64.getUrlEncoder().withoutPadding()
          .encodeToString(("{\"sub\":\"forged-" + i + "\"}").getBytes(StandardCharsets.UTF_8));
      client.get().uri("/data/inventory.items").header(HttpHeaders.AUTHORIZATION, "Bearer " + header + "." + payload + ".AAAA")
          .exchange().expectStatus().isUnauthorized().expectBody().jsonPath("$.code").isEqualTo("invalid_token");
    }
    // the sixth forged token, and even a genuine one, are refused without verification until the window ends
    client.get().uri("/data/inventory.items").header(HttpHeaders.AUTHORIZATION, "Bearer " + header + ".e30.AAAA")
        .exchange().expectStatus().isEqualTo(429)
        .expectHeader().exists(HttpHeaders.RETRY_AFTER)
        .expectBody().jsonPath("$.code").isEqualTo("rate_limited");
    assertThat(client.get().uri("/data/inventory.items").header(HttpHeaders.AUTHORIZATION, "Bearer " + genuine)
        .exchange().returnResult(String.class).getStatus().value()).isEqualTo(429);
  }
}

package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.broker.standalone.TokenBrokerApplication;
import io.portcullis.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.BodyInserters;

class BrokerWiringTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void standaloneApplicationServesTokensForConfiguredClients() {
    String kek = Base64.getEncoder().encodeToString(new byte[32]);
    SpringApplication app = new SpringApplication(TokenBrokerApplication.class);
    app.setDefaultProperties(Map.of(
        "server.port", "0",
        "portcullis.broker.issuer", "https://broker.test",
        "portcullis.broker.key-encryption-key", kek,
        "portcullis.standalone.r2dbc-url", PG.r2dbcUrl(),
        "portcullis.standalone.clients[0].client-id", "app-1",
        "portcullis.standalone.clients[0].tier", "2",
        "portcullis.standalone.clients[0].secret-hash", BrokerFixture.SECRET_HASH,
        "portcullis.standalone.clients[0].scopes[0]", "inventory.items:read"));
    try (ConfigurableApplicationContext ctx = app.run()) {
      int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
      WebTestClient http = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
          .responseTimeout(Duration.ofSeconds(20)).build();
      Map<String, Object> body = http.post().uri("/oauth2/token")
          .contentType(MediaType.APPLICATION_FORM_URLENCODED)
          .header(HttpHeaders.AUTHORIZATION, BrokerFixture.basic("app-1", BrokerFixture.SECRET))
          .body(BodyInserters.fromFormData("grant_type", "client_credentials"))
          .exchange()
          .expectStatus().isOk()
          .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {}).returnResult().getResponseBody();
      assertThat(body).containsEntry("expires_in", 900).containsEntry("scope", "inventory.items:read");
      assertThat(ctx.getBean(AccessTokenVerifier.class).verify((String) body.get("access_token"))
          .block(Duration.ofSeconds(5)).clientId()).isEqualTo("app-1");
      http.get().uri("/.well-known/jwks.json").exchange().expectStatus().isOk();
    }
  }
}

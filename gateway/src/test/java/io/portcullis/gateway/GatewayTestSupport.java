package io.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.BodyInserters;

/** What full-server tests share: the demo on a test database, demo secrets, tokens from the in-process broker. */
public final class GatewayTestSupport {

  private GatewayTestSupport() {
  }

  /** Properties for a demo gateway on the test class's database, with random ports and a private spill dir. */
  public static void demoGateway(DynamicPropertyRegistry registry, PostgresExtension pg) {
    registry.add("portcullis.database.url", pg::r2dbcUrl);
    registry.add("portcullis.demo.enabled", () -> "true");
    registry.add("portcullis.audit.spill-dir", () -> tempDir("audit-spill"));
    registry.add("portcullis.admin.port", () -> "0");
  }

  public static String tempDir(String name) {
    try {
      return Files.createTempDirectory("portcullis-" + name).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String secret(PostgresExtension pg, String app) {
    try (Connection c = pg.connect();
        PreparedStatement st = c.prepareStatement("SELECT value FROM portcullis.instance_secrets WHERE name = ?")) {
      st.setString(1, "demo-client-secret:" + app);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).as("demo secret of " + app).isTrue();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client-credentials access token for a demo app. */
  public static String token(WebTestClient client, PostgresExtension pg, String app) {
    @SuppressWarnings("unchecked")
    Map<String, Object> body = client.post().uri("/oauth2/token")
        .headers(h -> h.setBasicAuth(app, secret(pg, app)))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("grant_type", "client_credentials"))
        .exchange()
        .expectStatus().isOk()
        .expectBody(Map.class).returnResult().getResponseBody();
    assertThat(body).containsEntry("token_type", "Bearer");
    return (String) body.get("access_token");
  }
}

package io.portcullis.gateway.connector;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

/** What the connector's full-server tests share: demo gateway properties, tokens per app, raw calls, SQL probes. */
final class DataApiClient {

  private final WebTestClient client;
  private final PostgresExtension pg;
  private final Map<String, String> tokens = new HashMap<>();
  private final String base;

  DataApiClient(int port, PostgresExtension pg) {
    this.base = "http://localhost:" + port;
    this.client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port)
        .responseTimeout(java.time.Duration.ofSeconds(30)).build();
    this.pg = pg;
  }

  /** The demo gateway, with rate limits high enough that a test's burst of requests is never throttled. */
  static void properties(DynamicPropertyRegistry registry, PostgresExtension pg) {
    GatewayTestSupport.demoGateway(registry, pg);
    for (int tier = 0; tier <= 2; tier++) {
      registry.add("portcullis.quota.tiers[" + tier + "].rate-per-second", () -> "100000");
      registry.add("portcullis.quota.tiers[" + tier + "].burst", () -> "100000");
      registry.add("portcullis.quota.tiers[" + tier + "].concurrency", () -> "64");
    }
  }

  WebTestClient raw() {
    return client;
  }

  String token(String app) {
    return tokens.computeIfAbsent(app, a -> GatewayTestSupport.token(client, pg, a));
  }

  /** An absolute URI on this gateway for an already encoded path and query. */
  URI uri(String encodedPathAndQuery) {
    return URI.create(base + encodedPathAndQuery);
  }

  EntityExchangeResult<String> call(String app, HttpMethod method, URI uri, @org.jspecify.annotations.Nullable String body) {
    for (int attempt = 0; ; attempt++) {
      WebTestClient.RequestBodySpec spec = client.method(method).uri(uri)
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token(app));
      WebTestClient.RequestHeadersSpec<?> ready = body == null ? spec
          : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
      EntityExchangeResult<String> result = ready.exchange().expectBody(String.class).returnResult();
      // A quota stage may throttle a long corpus; that is not what these tests are about.
      if (result.getStatus().value() != 429 || attempt >= 20) {
        return result;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return result;
      }
    }
  }

  EntityExchangeResult<String> call(String app, HttpMethod method, String path, @org.jspecify.annotations.Nullable String body) {
    return call(app, method, URI.create(base + path), body);
  }

  long count(String sql) {
    try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  String text(String sql) {
    try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

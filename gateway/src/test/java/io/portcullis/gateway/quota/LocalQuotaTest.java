package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rate buckets, RateLimit-* headers and the concurrency cap of one gateway without Redis (the embedded default). */
class LocalQuotaTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static QuotaGateway gateway;

  @BeforeAll
  static void start() throws Exception {
    // ~100 MB of rows: a response the client does not read stays in flight (backpressure) as long as the test wants
    PG.execute("CREATE TABLE public.bulk (id bigint PRIMARY KEY, payload text NOT NULL)",
        "INSERT INTO public.bulk SELECT g, repeat('x', 1000) FROM generate_series(1, 100000) g");
    gateway = QuotaGateway.start(PG, "local", Map.of());
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void overTheRateIs429WithRetryAfterAndEveryResponseCarriesRateLimitHeaders() {
    List<HttpResponse<String>> responses = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < 12; i++) {
      responses.add(gateway.get("rate-app", "/data/forms.submissions?limit=1"));
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    List<HttpResponse<String>> ok = responses.stream().filter(r -> r.statusCode() == 200).toList();
    List<HttpResponse<String>> limited = responses.stream().filter(r -> r.statusCode() == 429).toList();
    assertThat(ok.size() + limited.size()).isEqualTo(12);
    // burst 5, then 5 rps
    assertThat(ok.size()).isBetween(5, 5 + (int) Math.ceil(elapsed * 5));
    assertThat(limited).isNotEmpty();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = responses.get(i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue("5");
      assertThat(Long.parseLong(r.headers().firstValue("RateLimit-Remaining").orElseThrow())).isBetween(0L, 4L);
      assertThat(Long.parseLong(r.headers().firstValue("RateLimit-Reset").orElseThrow())).isBetween(0L, 1L);
    }
    assertThat(responses.get(0).headers().firstValue("RateLimit-Remaining")).hasValue("4");
    HttpResponse<String> refused = limited.get(0);
    assertThat(refused.body()).contains("\"code\":\"rate_limited\"").contains("rate-app");
    assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 1L);
    assertThat(refused.headers().firstValue("RateLimit-Limit")).hasValue("5");
    assertThat(refused.headers().firstValue("RateLimit-Remaining")).hasValue("0");
    assertThat(gateway.counter("portcullis.requests.throttled", "app", "rate-app", "reason", "rate"))
        .isEqualTo(limited.size());
  }

  @Test
  void errorsAfterTheQuotaStageCarryRateLimitHeadersToo() {
    HttpResponse<String> notFound = gateway.get("weighted-app", "/data/forms.submissions/" + UUID.randomUUID());
    assertThat(notFound.statusCode()).isEqualTo(404);
    assertThat(notFound.body()).contains("\"code\":\"not_found\"");
    assertThat(notFound.headers().firstValue("RateLimit-Limit")).hasValue("40");
    assertThat(notFound.headers().firstValue("RateLimit-Remaining")).isPresent();
    assertThat(notFound.headers().firstValue("RateLimit-Reset")).isPresent();
  }

  @Test
  void refusalsBeforeTheQuotaStageCarryTheAppsBucketWithoutTakingFromIt() {
    // denied-app: burst 3, one token back every 10 s; it may read forms.submissions only
    HttpResponse<String> noGrant = gateway.get("denied-app", "/data/forms.heavy?limit=1");
    assertThat(noGrant.statusCode()).isEqualTo(403);
    assertRateLimit(noGrant, 3, 3);
    HttpResponse<String> unknown = gateway.get("denied-app", "/data/no.such.dataset");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("\"code\":\"unknown_dataset\"");
    assertRateLimit(unknown, 3, 3);
    HttpResponse<String> wrongMethod = QuotaGateway.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + gateway.port() + "/data/forms.submissions"))
        .header("Authorization", "Bearer " + gateway.token("denied-app"))
        .DELETE().build());
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertRateLimit(wrongMethod, 3, 3);

    HttpResponse<String> ok = gateway.get("denied-app", "/data/forms.submissions?limit=1");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertRateLimit(ok, 3, 2);
    HttpResponse<String> deniedAgain = gateway.get("denied-app", "/data/forms.heavy?limit=1");
    assertRateLimit(deniedAgain, 3, 2);
    assertThat(Long.parseLong(deniedAgain.headers().firstValue("RateLimit-Reset").orElseThrow())).isBetween(1L, 10L);
  }

  @Test
  void tokenRefusalsCarryTheAddressInvalidTokenAllowance() {
    // no app is known before the token is verified: the limit that applies is the address's 100 invalid tokens/min
    HttpResponse<String> first = withToken("not-a-token-1");
    assertThat(first.statusCode()).isEqualTo(401);
    assertThat(first.headers().firstValue("RateLimit-Limit")).hasValue("100");
    long remaining = Long.parseLong(first.headers().firstValue("RateLimit-Remaining").orElseThrow());
    assertThat(remaining).isLessThan(100);
    assertThat(Long.parseLong(first.headers().firstValue("RateLimit-Reset").orElseThrow())).isBetween(1L, 60L);
    HttpResponse<String> second = withToken("not-a-token-2");
    assertThat(second.headers().firstValue("RateLimit-Remaining")).hasValue(Long.toString(remaining - 1));
    HttpResponse<String> missing = QuotaGateway.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + gateway.port() + "/data/forms.submissions")).GET().build());
    assertThat(missing.statusCode()).isEqualTo(401);
    // a request without a token costs no verification, so it is not counted against the address
    assertThat(missing.headers().firstValue("RateLimit-Remaining")).hasValue(Long.toString(remaining - 1));
  }

  private static HttpResponse<String> withToken(String token) {
    return QuotaGateway.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + gateway.port() + "/data/forms.submissions"))
        .header("Authorization", "Bearer " + token).GET().build());
  }

  private static void assertRateLimit(HttpResponse<String> r, long limit, long remaining) {
    assertThat(r.headers().firstValue("RateLimit-Limit")).as(r.body()).hasValue(Long.toString(limit));
    assertThat(r.headers().firstValue("RateLimit-Remaining")).as(r.body()).hasValue(Long.toString(remaining));
    assertThat(r.headers().firstValue("RateLimit-Reset")).as(r.body()).isPresent();
  }

  @Test
  void appsWithoutTheirOwnQuotaGetTheirTiersDefault() {
    HttpResponse<String> r = gateway.get("sandbox-app", "/data/forms.submissions?limit=1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue("10");
  }

  @Test
  void anExpensiveDatasetGetsItsShareOfTheAppsRate() {
    // cost weight 4: forms.heavy allows 40/4 = 10 burst and 4/4 = 1 rps, while the app's own bucket holds 40; the slow
    // refill keeps the outcome independent of how fast a loaded machine serves the 16 requests
    int ok = 0;
    HttpResponse<String> refused = null;
    long started = System.nanoTime();
    for (int i = 0; i < 16; i++) {
      HttpResponse<String> r = gateway.get("weighted-app", "/data/forms.heavy?limit=1");
      if (r.statusCode() == 200) {
        ok++;
        assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue("10");
      } else {
        assertThat(r.statusCode()).isEqualTo(429);
        refused = r;
      }
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    assertThat(ok).isBetween(10, 10 + (int) Math.ceil(elapsed));
    assertThat(refused).isNotNull();
    assertThat(refused.body()).contains("rate_limited").contains("forms.heavy");
    assertThat(gateway.counter("portcullis.requests.throttled", "app", "weighted-app", "reason", "dataset_rate"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void concurrencyCapRefusesWhileARequestIsInFlightAndReleasesOnCancel() throws Exception {
    String token = gateway.token("busy-app");
    try (Socket slow = new Socket("127.0.0.1", gateway.port())) {
      OutputStream out = slow.getOutputStream();
      out.write(("GET /data/test.bulk?limit=100000 HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-ndjson\r\n"
          + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = slow.getInputStream();
      byte[] head = in.readNBytes(12);
      assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
      // the big response is now stuck on the unread socket: busy-app's one permit is taken
      HttpResponse<String> refused = gateway.get("busy-app", "/data/test.bulk?limit=1");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.body()).contains("\"code\":\"rate_limited\"").contains("concurrency");
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.headers().firstValue("RateLimit-Limit")).hasValue("100");
      assertThat(gateway.counter("portcullis.requests.throttled", "app", "busy-app", "reason", "concurrency"))
          .isEqualTo(1);
    }
    // the client went away: the cancel released the permit
    long deadline = System.nanoTime() + 5_000_000_000L;
    int status = 0;
    while (System.nanoTime() < deadline && status != 200) {
      status = gateway.get("busy-app", "/data/test.bulk?limit=1").statusCode();
      if (status != 200) {
        Thread.sleep(50);
      }
    }
    assertThat(status).isEqualTo(200);
    // and exactly once: a second request in flight is again the only one allowed, then released on completion
    for (int i = 0; i < 3; i++) {
      assertThat(gateway.get("busy-app", "/data/test.bulk?limit=1").statusCode()).isEqualTo(200);
    }
  }
}

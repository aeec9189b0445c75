package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.broker.SecretHasher;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.PortcullisApplication;
import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A whole Portcullis gateway for the quota tests, started as its own Spring application (so a test can run two
 * replicas side by side, or restart one) on random ports, against the test class's PostgreSQL, with the quota test
 * config below imported as the serving policy version.
 */
final class QuotaGateway implements AutoCloseable {

  static final String SECRET = "quota-test-secret";
  private static final String SECRET_HASH = SecretHasher.hash(SECRET.toCharArray());

  /** Apps whose quotas the tests drive; every app reads the demo's synthetic survey table. */
  static final String CONFIG = """
      apps:
        - {id: rate-app, tier: 1, cost_center: CC-RATE, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 5, burst: 5, concurrency: 10}}
        - {id: sandbox-app, tier: 0, cost_center: CC-SANDBOX, client: {secret_hash: "%1$s"}}
        - {id: weighted-app, tier: 1, cost_center: CC-W, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 4, burst: 40, concurrency: 10}}
        - {id: busy-app, tier: 1, cost_center: CC-BUSY, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 100, burst: 100, concurrency: 1}}
        - {id: budget-app, tier: 1, cost_center: CC-BUDGET, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 100, burst: 100, concurrency: 10,
                   budget: {period: day, units: 10, soft_percent: 80, zone: Europe/Berlin}}}
        - {id: shared-app, tier: 1, cost_center: CC-SHARED, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 20, burst: 20, concurrency: 64}}
        - {id: fallback-app, tier: 1, cost_center: CC-SHARED, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 20, burst: 20, concurrency: 64}}
        - {id: denied-app, tier: 0, cost_center: CC-DENIED, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 0.1, burst: 3, concurrency: 4}}
        - {id: steady-app, tier: 1, cost_center: CC-ANOMALY, client: {secret_hash: "%1$s"}}
        - {id: alert-app, tier: 1, cost_center: CC-ANOMALY, client: {secret_hash: "%1$s"}}
        - {id: throttle-app, tier: 1, cost_center: CC-ANOMALY, client: {secret_hash: "%1$s"},
           quota: {rate_per_second: 20, burst: 20, concurrency: 16}}
        - {id: pause-app, tier: 1, cost_center: CC-ANOMALY, client: {secret_hash: "%1$s"}}
      datasets:
        - name: forms.submissions
          template: custom
          tags: [synthetic]
          source: {type: postgres, schema: demo, table: form_submissions, key: id}
          columns:
            - {name: id, type: uuid}
            - {name: form, type: text}
            - {name: department, type: text}
            - {name: rating, type: integer}
        - name: forms.heavy
          template: custom
          tags: [synthetic]
          cost_weight: 4
          source: {type: postgres, schema: demo, table: form_submissions, key: id}
          columns:
            - {name: id, type: uuid}
            - {name: form, type: text}
        - name: test.bulk
          template: custom
          tags: [synthetic]
          max_limit: 100000
          source: {type: postgres, schema: public, table: bulk, key: id}
          columns:
            - {name: id, type: bigint}
            - {name: payload, type: text}
      grants:
        - {id: rate-app-forms, app: rate-app, dataset: forms.submissions, actions: [read]}
        - {id: sandbox-app-forms, app: sandbox-app, dataset: forms.submissions, actions: [read]}
        - {id: weighted-app-forms, app: weighted-app, dataset: forms.submissions, actions: [read]}
        - {id: weighted-app-heavy, app: weighted-app, dataset: forms.heavy, actions: [read]}
        - {id: busy-app-bulk, app: busy-app, dataset: test.bulk, actions: [read]}
        - {id: budget-app-forms, app: budget-app, dataset: forms.submissions, actions: [read]}
        - {id: shared-app-forms, app: shared-app, dataset: forms.submissions, actions: [read]}
        - {id: fallback-app-forms, app: fallback-app, dataset: forms.submissions, actions: [read]}
        - {id: denied-app-forms, app: denied-app, dataset: forms.submissions, actions: [read]}
        - {id: steady-app-bulk, app: steady-app, dataset: test.bulk, actions: [read]}
        - {id: alert-app-bulk, app: alert-app, dataset: test.bulk, actions: [read]}
        - {id: throttle-app-bulk, app: throttle-app, dataset: test.bulk, actions: [read]}
        - {id: pause-app-bulk, app: pause-app, dataset: test.bulk, actions: [read]}
      """.formatted(SECRET_HASH);

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Path CONFIG_FILE = write(CONFIG);

  private final ConfigurableApplicationContext context;
  private final int port;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  private QuotaGateway(ConfigurableApplicationContext context) {
    this.context = context;
    this.port = ((WebServerApplicationContext) context).getWebServer().getPort();
  }

  /** Starts a gateway; {@code extra} properties win over the test defaults. */
  static QuotaGateway start(PostgresExtension pg, String name, Map<String, String> extra) {
    return start(pg, name, extra, null);
  }

  /** Starts a gateway whose quota stage reads {@code quotaClock} (minute windows, throttle periods), when given. */
  static QuotaGateway start(PostgresExtension pg, String name, Map<String, String> extra, @Nullable Clock quotaClock) {
    Map<String, String> props = new LinkedHashMap<>();
    props.put("server.port", "0");
    props.put("portcullis.admin.port", "0");
    props.put("portcullis.database.url", pg.r2dbcUrl());
    props.put("portcullis.demo.enabled", "true");
    props.put("portcullis.policy.config-file", CONFIG_FILE.toString());
    props.put("portcullis.audit.spill-dir", GatewayTestSupport.tempDir("quota-spill-" + name));
    props.put("portcullis.audit.chain-id", "quota-test-" + name);
    props.put("management.metrics.use-global-registry", "false");
    props.putAll(extra);
    List<String> args = new ArrayList<>();
    props.forEach((k, v) -> args.add("--" + k + "=" + v));
    SpringApplicationBuilder builder = new SpringApplicationBuilder(PortcullisApplication.class);
    if (quotaClock != null) {
      builder.initializers(c -> c.getBeanFactory().registerSingleton("quotaClock", quotaClock));
    }
    ConfigurableApplicationContext ctx = builder.run(args.toArray(String[]::new));
    return new QuotaGateway(ctx);
  }

  int port() {
    return port;
  }

  ConfigurableApplicationContext context() {
    return context;
  }

  double gauge(String name, String... tags) {
    return context.getBean(MeterRegistry.class).get(name).tags(tags).gauge().value();
  }

  double counter(String name, String... tags) {
    var counter = context.getBean(MeterRegistry.class).find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  /** A client-credentials token of {@code app}, fetched once per gateway. */
  String token(String app) {
    return tokens.computeIfAbsent(app, a -> {
      String basic = Base64.getEncoder().encodeToString((a + ":" + SECRET).getBytes(StandardCharsets.UTF_8));
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
          .header("Authorization", "Basic " + basic)
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
          .build();
      HttpResponse<String> response = send(request);
      assertThat(response.statusCode()).as("token for %s: %s", a, response.body()).isEqualTo(200);
      String body = response.body();
      int start = body.indexOf("\"access_token\"");
      int open = body.indexOf('"', body.indexOf(':', start) + 1);
      return body.substring(open + 1, body.indexOf('"', open + 1));
    });
  }

  /** {@code GET path} as {@code app}. */
  HttpResponse<String> get(String app, String path) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token(app))
        .timeout(Duration.ofSeconds(15))
        .GET().build());
  }

  static HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    context.close();
  }

  private static Path write(String yaml) {
    try {
      Path file = Files.createTempFile("portcullis-quota", ".yaml");
      Files.writeString(file, yaml);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

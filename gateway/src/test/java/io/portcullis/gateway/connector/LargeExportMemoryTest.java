package io.portcullis.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.broker.SecretHasher;
import io.portcullis.gateway.GatewayProcess;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * Memory stays flat whatever the result size (issue #5): a gateway limited to a 256 MiB heap, in a JVM of its own,
 * streams 1,000,000 rows — as a JSON array and as NDJSON, each several times its heap's worth of JSON if it were
 * held — with a mask applied to every row, stays alive, and its heap after each collection stays well under the
 * limit (read from its own GC log).
 */
class LargeExportMemoryTest {

  static final int ROWS = 1_000_000;
  static final String SECRET = "large-export-test-secret";
  static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");
  /** e.g. {@code [2.345s][info][gc] GC(12) Pause Young (Allocation Failure) 70M->5M(247M) 3.456ms} */
  static final Pattern GC_AFTER = Pattern.compile("\\bGC\\(\\d+\\) Pause .*?(\\d+)M->(\\d+)M\\((\\d+)M\\)");
  static final String MASKED_EMAIL = "\"email\":\"****@corp.example\"";

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @TempDir
  static Path dir;

  static GatewayProcess gateway;
  static String token;
  long started;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startGateway() throws Exception {
    long start = System.nanoTime();
    PG.execute("CREATE SCHEMA export",
        "CREATE TABLE export.people AS SELECT g::bigint AS id, 'person ' || g AS name,"
            + " 'person' || g || '@corp.example' AS email, g % 97 AS team FROM generate_series(1, " + ROWS + ") g",
        "ALTER TABLE export.people ADD PRIMARY KEY (id)",
        "ANALYZE export.people");
    Path config = dir.resolve("portcullis.yaml");
    Files.writeString(config, """
        apps:
          - {id: export-app, tier: 1, client: {secret_hash: "%s"}}
        datasets:
          - name: export.people
            template: custom
            max_limit: %d
            source: {type: postgres, schema: export, table: people, key: id}
            columns:
              - {name: id, type: bigint}
              - {name: name, type: text}
              - {name: email, type: text}
              - {name: team, type: integer}
        grants:
          - {id: export-app-people, app: export-app, dataset: export.people, actions: [read],
             columns: {masks: {email: email_domain}}}
        """.formatted(SecretHasher.hash(SECRET.toCharArray()), ROWS));
    long seeded = System.nanoTime();
    byte[] kek = new byte[32];
    new java.security.SecureRandom().nextBytes(kek);
    gateway = GatewayProcess.start(dir.resolve("gateway.log"),
        List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc:file=" + dir.resolve("gc.log")),
        List.of("--portcullis.admin.port=0",
            "--portcullis.database.url=" + PG.r2dbcUrl(),
            "--portcullis.demo.enabled=false",
            "--portcullis.policy.config-file=" + config,
            "--portcullis.audit.spill-dir=" + GatewayTestSupport.tempDir("export-spill"),
            "--portcullis.broker.key-encryption-key=" + Base64.getEncoder().encodeToString(kek),
            "--logging.level.root=warn"));
    gateway.awaitUp(Duration.ofSeconds(120));
    token = token();
    System.out.printf("seeded %,d rows in %d ms; gateway JVM up in %d ms%n", ROWS, (seeded - start) / 1_000_000,
        (System.nanoTime() - seeded) / 1_000_000);
  }

  @AfterAll
  static void stopGateway() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void aMillionRowsStreamAsNdjsonThroughA256MiBHeapEachMasked() throws Exception {
    HttpResponse<InputStream> r = export("application/x-ndjson");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Portcullis-Masked")).hasValue("email");
    long rows = 0;
    long masked = 0;
    String first = null;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8), 1 << 16)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (first == null) {
          first = line;
        }
        rows++;
        if (line.contains(MASKED_EMAIL)) {
          masked++;
        }
      }
    }
    assertThat(rows).isEqualTo(ROWS);
    assertThat(masked).as("rows with the e-mail masked to its domain; the first: %s", first).isEqualTo(ROWS);
    assertStayedFlat();
  }

  @Test
  void aMillionRowsStreamAsAJsonArrayThroughA256MiBHeapEachMasked() throws Exception {
    HttpResponse<InputStream> r = export("application/json");
    assertThat(r.statusCode()).isEqualTo(200);
    long rows = 0;
    long masked = 0;
    long lastId = 0;
    boolean ordered = true;
    try (JsonParser p = JsonMapper.builder().build().createParser(r.body())) {
      assertThat(p.nextToken()).isEqualTo(JsonToken.START_ARRAY);
      for (JsonToken t = p.nextToken(); t == JsonToken.START_OBJECT; t = p.nextToken()) {
        rows++;
        for (t = p.nextToken(); t == JsonToken.PROPERTY_NAME; t = p.nextToken()) {
          String field = p.currentName();
          p.nextToken();
          if (field.equals("email") && "****@corp.example".equals(p.getString())) {
            masked++;
          } else if (field.equals("id")) {
            ordered &= p.getLongValue() > lastId;
            lastId = p.getLongValue();
          }
        }
      }
      assertThat(p.currentToken()).as("the array is closed").isEqualTo(JsonToken.END_ARRAY);
    }
    assertThat(rows).isEqualTo(ROWS);
    assertThat(masked).as("rows with the e-mail masked to its domain").isEqualTo(ROWS);
    assertThat(ordered).as("rows in key order").isTrue();
    assertStayedFlat();
  }

  private HttpResponse<InputStream> export(String accept) throws Exception {
    started = System.nanoTime();
    return http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/data/export.people?limit=" + ROWS))
            .header("Authorization", "Bearer " + token).header("Accept", accept)
            .timeout(Duration.ofSeconds(120)).GET().build(),
        HttpResponse.BodyHandlers.ofInputStream());
  }

  /** Alive, still answering, and no collection left more than half the heap in use. */
  private void assertStayedFlat() throws Exception {
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("streamed %,d rows in %d ms (%,d rows/s)%n", ROWS, ms, ROWS * 1000L / Math.max(1, ms));
    assertThat(gateway.isAlive()).as("gateway alive after the export; its log:%n%s", gateway.tail()).isTrue();
    HttpResponse<String> small = http.send(HttpRequest.newBuilder(
            URI.create(gateway.baseUrl() + "/data/export.people?limit=1")).header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(small.statusCode()).isEqualTo(200);
    assertThat(Files.readString(dir.resolve("gateway.log"))).doesNotContain("OutOfMemoryError");
    long collections = 0;
    long maxAfterMiB = 0;
    for (String line : Files.readAllLines(dir.resolve("gc.log"))) {
      Matcher m = GC_AFTER.matcher(line);
      if (m.find()) {
        collections++;
        maxAfterMiB = Math.max(maxAfterMiB, Long.parseLong(m.group(2)));
      }
    }
    System.out.printf("gateway with -Xmx256m: %d collections, heap after GC at most %d MiB%n", collections,
        maxAfterMiB);
    assertThat(collections).as("collections in the gateway's GC log (else the log was not read)").isPositive();
    assertThat(maxAfterMiB).as("most heap in use after a collection, of 256 MiB").isLessThan(128);
  }

  private static String token() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/oauth2/token"))
          .header("Authorization", "Basic " + Base64.getEncoder()
              .encodeToString(("export-app:" + SECRET).getBytes(StandardCharsets.UTF_8)))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
          HttpResponse.BodyHandlers.ofString());
      Matcher m = ACCESS_TOKEN.matcher(r.body());
      if (r.statusCode() == 200 && m.find()) {
        return m.group(1);
      }
      assertThat(System.nanoTime()).as("a token within 60 s: %s; log:%n%s", r.body(), gateway.tail())
          .isLessThan(deadline);
      Thread.sleep(250);
    }
  }
}

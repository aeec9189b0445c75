package io.portcullis.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.testsupport.PostgresExtension;
import java.io.BufferedReader;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The console and the live ops dashboard as an admin uses them, in the distribution's headless Chromium (skipped when
 * {@code /usr/bin/chromium} is absent): log in, edit a grant, see its version and diff, and watch a throttle appear on
 * the dashboard while a client exceeds its app's rate. Plus what makes the console safe without a browser: CSP and
 * friends on every admin-port response, no cookie auth, form bodies refused, one-use stream tickets, and the Grafana
 * dashboard's metric names against the real Prometheus scrape. Screenshots go to
 * {@code target/console-screenshots/}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ConsoleBrowserTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.admin.ops-period", () -> "500ms");
  }

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path SCREENSHOTS = Path.of("target/console-screenshots");
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String APP = "survey-sandbox";

  static WebDriver browser;

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  @AfterAll
  static void closeBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  String adminBase() {
    return "http://127.0.0.1:" + admin.port();
  }

  String token(String app) {
    return GatewayTestSupport.token(WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build(), PG, app);
  }

  WebDriver browser() throws IOException {
    assumeTrue(Files.isExecutable(CHROMIUM), "no /usr/bin/chromium: the real-browser test is skipped");
    if (browser == null) {
      ChromeOptions options = new ChromeOptions();
      options.setBinary(CHROMIUM.toFile());
      options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
          "--window-size=1400,1000",
          "--user-data-dir=" + Files.createTempDirectory("portcullis-chromium").toAbsolutePath());
      // an explicit driver: Selenium Manager never runs, nothing is downloaded
      ChromeDriverService service = new ChromeDriverService.Builder()
          .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
      browser = new ChromeDriver(service, options);
    }
    return browser;
  }

  void screenshot(String name) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(SCREENSHOTS.resolve(name + ".png"), png);
  }

  WebDriverWait waitFor(Duration d) {
    // the dashboard re-renders its cards every second: an element found in one poll may be gone in the next
    return (WebDriverWait) new WebDriverWait(browser, d).ignoring(StaleElementReferenceException.class);
  }

  @Test
  void adminLogsInEditsAGrantSeesTheVersionAndWatchesAThrottleOnTheDashboard() throws Exception {
    WebDriver b = browser();
    b.get(adminBase() + "/console/");
    b.findElement(By.id("client-id")).clear();
    b.findElement(By.id("client-id")).sendKeys("portcullis-admin");
    b.findElement(By.id("client-secret")).sendKeys(GatewayTestSupport.secret(PG, "portcullis-admin"));
    b.findElement(By.id("login")).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(
        By.cssSelector("#entity-list li[data-id='" + APP + "']")));
    assertThat(b.findElement(By.id("who")).getText()).startsWith("portcullis-admin");
    assertThat((String) ((JavascriptExecutor) b).executeScript("return document.cookie")).isEmpty();
    screenshot("01-apps");

    // edit a grant: the sandbox app may no longer create survey answers
    b.findElement(By.cssSelector("#nav button[data-view='grants']")).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.elementToBeClickable(
        By.cssSelector("#entity-list li[data-id='survey-sandbox-forms']"))).click();
    waitFor(Duration.ofSeconds(10)).until(d -> d.findElement(By.id("editor")).getAttribute("value")
        .contains("\"create\""));
    ((JavascriptExecutor) b).executeScript("const e = document.getElementById('editor');"
        + "const g = JSON.parse(e.value); g.actions = ['read']; e.value = JSON.stringify(g, null, 2);");
    b.findElement(By.id("reason")).sendKeys("sandbox is read-only from now on");
    b.findElement(By.id("save")).click();
    Pattern saved = Pattern.compile("saved as version (\\d+)");
    String version = waitFor(Duration.ofSeconds(15)).until(d -> {
      Matcher m = saved.matcher(d.findElement(By.id("status")).getText());
      return m.find() ? m.group(1) : null;
    });
    screenshot("02-grant-saved");

    // the new version is listed with its author and reason, and its diff names the grant
    b.findElement(By.cssSelector("#nav button[data-view='versions']")).click();
    By row = By.cssSelector("#versions tbody tr[data-version='" + version + "']");
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.elementToBeClickable(row));
    assertThat(b.findElement(row).getText()).contains("portcullis-admin").contains("sandbox is read-only");
    b.findElement(row).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.textMatches(By.id("diff"),
        Pattern.compile("survey-sandbox-forms")));
    assertThat(b.findElement(By.id("diff")).getText()).contains("to " + version);
    screenshot("03-version-diff");
    // and the data plane enforces it: a create by the sandbox app is now refused
    HttpResponse<String> create = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
            + "/data/forms.submissions")).header("Authorization", "Bearer " + token(APP))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"form\":\"canteen\",\"submitter_email\":\"a@corp.example\","
            + "\"department\":\"ops\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(create.statusCode()).as(create.body()).isEqualTo(403);

    // a low rate and a budget on the app (admin API), then the dashboard, then a client over the limit
    lowerRate(APP);
    b.get(adminBase() + "/console/dashboard.html");
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.textToBe(By.id("connection"), "live"));
    String appToken = token(APP);
    int throttled = 0;
    for (int i = 0; i < 25; i++) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
              + "/data/forms.submissions?limit=1")).header("Authorization", "Bearer " + appToken).build(),
          HttpResponse.BodyHandlers.ofString());
      throttled += r.statusCode() == 429 ? 1 : 0;
    }
    assertThat(throttled).as("requests over the app's rate").isGreaterThan(0);
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(
        By.cssSelector("#top-throttled li[data-app='" + APP + "']")));
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(
        By.cssSelector(".card.throttling[data-app='" + APP + "']")));
    By card = By.cssSelector(".card[data-app='" + APP + "']");
    String total = "(" + throttled + " total)";
    waitFor(Duration.ofSeconds(10)).until(d -> d.findElement(card).getText().contains(total));
    // the per-reason breakdown shows only while throttles happen in the current second: not asserted
    assertThat(b.findElement(card).getText()).contains("req/s").contains("throttled").contains("budget");
    assertThat(b.findElements(By.cssSelector(".card[data-app='" + APP + "'] svg.spark polyline"))).hasSize(2);
    screenshot("04-dashboard-throttled");
  }

  /**
   * The console's config, simulate, policy-block and audit screens: a policy block made from the template, a YAML
   * import with a compile error shown at its line (nothing stored), a draft that takes away an app's grant simulated
   * against its recent requests (allow→deny shown for that app), and the audit trail filtered by app with its CSV.
   */
  @Test
  @SuppressWarnings("unchecked")
  void adminManagesPolicyBlocksSeesImportErrorsSimulatesADraftAndQueriesTheAudit() throws Exception {
    WebDriver b = browser();
    JavascriptExecutor js = (JavascriptExecutor) b;
    logIn(b);

    // policy blocks: a new one from the template, listed and opened again
    b.findElement(By.cssSelector("#nav button[data-view='policies']")).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.textToBe(By.id("entities-title"), "Policies"));
    b.findElement(By.id("new-entity")).click();
    assertThat(b.findElement(By.id("editor")).getAttribute("value")).contains("\"effect\": \"deny\"");
    js.executeScript("const e = document.getElementById('editor'); const p = JSON.parse(e.value);"
        + "p.id = 'no-sandbox-deletes'; p.description = 'sandbox apps never delete';"
        + "p.applies_to = {tiers: [0], datasets: ['forms.submissions']}; e.value = JSON.stringify(p, null, 2);");
    b.findElement(By.id("reason")).clear();
    b.findElement(By.id("reason")).sendKeys("sandbox apps never delete");
    b.findElement(By.id("save")).click();
    waitFor(Duration.ofSeconds(15)).until(ExpectedConditions.textMatches(By.id("status"),
        Pattern.compile("saved as version \\d+")));
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.attributeContains(By.id("editor"), "value",
        "sandbox apps never delete"));
    assertThat(b.findElement(By.cssSelector("#entity-list li[data-id='no-sandbox-deletes']")).getAttribute("class"))
        .contains("selected");
    screenshot("05-policy-block");

    // whole-config import: a grant for an app that does not exist is refused, the error points at its line
    b.findElement(By.cssSelector("#nav button[data-view='config']")).click();
    WebElement yaml = waitFor(Duration.ofSeconds(10)).until(d -> {
      WebElement area = d.findElement(By.id("config-yaml"));
      return area.getAttribute("value").contains("no-sandbox-deletes") ? area : null;
    });
    String current = yaml.getAttribute("value");
    assertThat(b.findElement(By.id("config-download")).getAttribute("href")).startsWith("blob:");
    String broken = edit(current, tree -> grant(tree, "team-inventory-items").put("app", "no-such-app"));
    js.executeScript("arguments[0].value = arguments[1];", yaml, broken);
    b.findElement(By.id("config-reason")).sendKeys("typo in an app id");
    b.findElement(By.id("config-import")).click();
    WebElement error = waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.visibilityOfElementLocated(
        By.cssSelector("#config-errors li")));
    assertThat(error.getText()).contains("no-such-app");
    String location = error.getAttribute("data-location");
    assertThat(location).matches("\\d+:\\d+");
    int line = Integer.parseInt(location.split(":")[0]);
    assertThat(broken.split("\n")[line - 1]).as("the line the error names").contains("no-such-app");
    assertThat(b.findElement(By.id("status")).getText()).contains("invalid_body").contains("nothing was stored");
    error.findElement(By.cssSelector("button.loc")).click();
    String selected = (String) js.executeScript(
        "const a = document.getElementById('config-yaml'); return a.value.substring(a.selectionStart, a.selectionEnd);");
    assertThat(selected).contains("no-such-app");
    screenshot("06-import-error");
    assertThat(get("/admin/config").body()).doesNotContain("no-such-app");

    // simulate: the draft takes team-inventory's grant away; its recent reads would now be denied
    String inventory = token("team-inventory");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
          + "/data/inventory.items?limit=1")).header("Authorization", "Bearer " + inventory).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    String draft = edit(current, tree -> ((List<Map<String, Object>>) tree.get("grants"))
        .removeIf(g -> "team-inventory-items".equals(g.get("id"))));
    js.executeScript("arguments[0].value = arguments[1];", yaml, draft);
    WebElement requests = b.findElement(By.id("simulate-requests"));
    requests.clear();
    requests.sendKeys("200");
    By inventoryRow = By.cssSelector("#simulate-apps tr[data-app='team-inventory']");
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) { // the audit is written in batches: the reads may take a moment to be replayable
      b.findElement(By.id("config-simulate")).click();
      waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.textMatches(By.id("status"),
          Pattern.compile("decisions would change")));
      List<WebElement> rows = b.findElements(inventoryRow);
      if (!rows.isEmpty() && Integer.parseInt(rows.get(0).findElements(By.tagName("td")).get(3).getText()) >= 3) {
        break;
      }
      assertThat(System.nanoTime()).as("team-inventory's reads in the simulation").isLessThan(deadline);
      Thread.sleep(300);
    }
    WebElement row = b.findElement(inventoryRow);
    assertThat(row.getAttribute("class")).contains("changed");
    assertThat(row.findElements(By.tagName("td")).get(3).getAttribute("class")).contains("bad");
    assertThat(row.getAttribute("title")).contains("allow").contains("→ deny");
    assertThat(b.findElement(By.id("simulate-summary")).getText()).containsPattern("\\d+ decision\\(s\\) would change");
    screenshot("07-simulate");
    assertThat(get("/admin/grants/team-inventory-items").statusCode()).as("simulating applies nothing").isEqualTo(200);

    // the audit trail filtered by app: only that app's events, newest first, and a CSV of the page
    b.findElement(By.cssSelector("#nav button[data-view='audit']")).click();
    b.findElement(By.id("audit-app")).sendKeys("team-inventory");
    new org.openqa.selenium.support.ui.Select(b.findElement(By.id("audit-outcome"))).selectByVisibleText("allowed");
    b.findElement(By.id("audit-search")).click();
    waitFor(Duration.ofSeconds(10)).until(d -> d.findElement(By.id("status")).getText().matches("\\d+ audit event.*")
        && d.findElements(By.cssSelector("#audit-events tbody tr")).size() >= 3
        && d.findElements(By.cssSelector("#audit-events tbody td.app")).stream()
            .allMatch(td -> td.getText().equals("team-inventory")));
    assertThat(b.findElements(By.cssSelector("#audit-events tbody td.allowed"))).hasSizeGreaterThanOrEqualTo(3);
    b.findElement(By.cssSelector("#audit-events tbody tr")).click();
    assertThat(b.findElement(By.id("audit-detail")).getText()).contains("\"app_id\": \"team-inventory\"");
    b.findElement(By.id("audit-csv")).click();
    WebElement csv = waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.visibilityOfElementLocated(
        By.id("audit-csv-link")));
    assertThat(csv.getAttribute("href")).startsWith("blob:");
    assertThat(Integer.parseInt(csv.getAttribute("data-rows"))).isGreaterThanOrEqualTo(3);
    screenshot("08-audit");
    // the same export over HTTP: CSV, one line per event of that app
    HttpResponse<String> export = get("/admin/audit/events?app=team-inventory&outcome=allowed&format=csv&limit=5");
    assertThat(export.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/csv"));
    assertThat(export.body()).startsWith("event_id,timestamp,").contains(",team-inventory,");
  }

  /** Logs in on the console page (or finds this tab already logged in). */
  void logIn(WebDriver b) {
    b.get(adminBase() + "/console/");
    waitFor(Duration.ofSeconds(10)).until(d -> d.findElement(By.id("login-view")).isDisplayed()
        || d.findElement(By.id("nav")).isDisplayed());
    if (b.findElement(By.id("login-view")).isDisplayed()) {
      b.findElement(By.id("client-id")).clear();
      b.findElement(By.id("client-id")).sendKeys("portcullis-admin");
      b.findElement(By.id("client-secret")).sendKeys(GatewayTestSupport.secret(PG, "portcullis-admin"));
      b.findElement(By.id("login")).click();
    }
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.visibilityOfElementLocated(By.id("nav")));
  }

  HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + path))
        .header("Authorization", "Bearer " + token("portcullis-admin")).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The config YAML with one change made to its tree (the policy engine's own reader and writer). */
  @SuppressWarnings("unchecked")
  static String edit(String yaml, java.util.function.Consumer<Map<String, Object>> change) throws Exception {
    Map<String, Object> tree = ConfigChanges.JSON.convertValue(PolicyConfigWriter.toTree(
        PolicyConfigLoader.parse(yaml, "console test")), java.util.LinkedHashMap.class);
    change.accept(tree);
    return PolicyConfigWriter.toYaml(tree);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> grant(Map<String, Object> tree, String id) {
    return ((List<Map<String, Object>>) tree.get("grants")).stream().filter(g -> id.equals(g.get("id"))).findFirst()
        .orElseThrow();
  }

  /** Sets the app's quota to 2/s (burst 2) with a daily budget, through the admin API, and waits for it to apply. */
  void lowerRate(String app) throws Exception {
    String adminToken = token("portcullis-admin");
    HttpResponse<String> current = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/apps/" + app))
        .header("Authorization", "Bearer " + adminToken).build(), HttpResponse.BodyHandlers.ofString());
    @SuppressWarnings("unchecked")
    Map<String, Object> entity = JSON.readValue(current.body(), Map.class);
    entity.put("quota", Map.of("rate_per_second", 2, "burst", 2, "concurrency", 4,
        "budget", Map.of("period", "day", "units", 100000)));
    HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/apps/" + app))
        .header("Authorization", "Bearer " + adminToken).header("Content-Type", "application/json")
        .header("Portcullis-Reason", "dashboard test: a low rate")
        .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(entity))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    Thread.sleep(1500); // the reloader applies a new version within about a second
  }

  @Test
  void everyAdminPortResponseCarriesTheSecurityHeaders() throws Exception {
    for (String path : List.of("/console/", "/console/console.js", "/admin/apps")) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + path)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.headers().firstValue("Content-Security-Policy")).as(path).hasValue(ConsoleRoutes.CSP);
      assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
      assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
    }
    HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/console/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<script type=\"module\" src=\"/console/console.js\"></script>")
        .doesNotContain("onclick").doesNotContainPattern("<script>");
  }

  @Test
  void noCookieAuthAndNoFormBodiesOnStateChangingAdminEndpoints() throws Exception {
    String adminToken = token("portcullis-admin");
    HttpResponse<String> cookie = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/apps"))
        .header("Cookie", "access_token=" + adminToken + "; Authorization=Bearer%20" + adminToken).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(cookie.statusCode()).isEqualTo(401);

    for (String type : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "text/plain;charset=UTF-8")) {
      HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase()
              + "/admin/apps/" + APP + "/pause?reason=csrf"))
          .header("Authorization", "Bearer " + adminToken).header("Content-Type", type)
          .POST(HttpRequest.BodyPublishers.ofString("reason=csrf")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(form.statusCode()).as(type).isEqualTo(415);
      assertThat(form.body()).contains("\"code\":\"unsupported_media_type\"");
    }
    // the app was never paused: its token still works
    HttpResponse<String> read = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
            + "/data/forms.submissions?limit=1")).header("Authorization", "Bearer " + token(APP)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(read.statusCode()).isIn(200, 429);
  }

  @Test
  void theOpsStreamOpensOnlyWithAFreshOneUseTicketAndSendsSnapshots() throws Exception {
    HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/ops/stream"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(none.statusCode()).isEqualTo(401);
    HttpResponse<String> dataToken = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/ops/tickets"))
        .header("Authorization", "Bearer " + token(APP)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(dataToken.statusCode()).isEqualTo(403);

    HttpResponse<String> issued = HTTP.send(HttpRequest.newBuilder(URI.create(adminBase() + "/admin/ops/tickets"))
        .header("Authorization", "Bearer " + token("portcullis-admin")).POST(HttpRequest.BodyPublishers.noBody())
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
    String ticket = JSON.readTree(issued.body()).path("ticket").asString();
    assertThat(ticket).hasSizeGreaterThan(40);

    URI stream = URI.create(adminBase() + "/admin/ops/stream?ticket=" + ticket);
    HttpResponse<InputStream> open = HTTP.send(HttpRequest.newBuilder(stream).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    List<JsonNode> snapshots = new ArrayList<>();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(open.body(), StandardCharsets.UTF_8))) {
      assertThat(open.statusCode()).isEqualTo(200);
      assertThat(open.headers().firstValue("Content-Type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("text/event-stream"));
      String line;
      while (snapshots.size() < 2 && (line = lines.readLine()) != null) {
        if (line.startsWith("data:")) {
          snapshots.add(JSON.readTree(line.substring(5)));
        }
      }
    }
    assertThat(snapshots).hasSize(2).allSatisfy(s -> {
      assertThat(s.has("apps")).isTrue();
      assertThat(s.path("audit").has("lag_ms")).isTrue();
      assertThat(s.path("audit").path("sink_healthy").asBoolean()).isTrue();
    });
    HttpResponse<String> reused = HTTP.send(HttpRequest.newBuilder(stream).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(reused.statusCode()).as("a ticket opens one stream only").isEqualTo(401);
  }

  /** Every portcullis_* series the Grafana dashboard queries is one the gateway really exports. */
  @Test
  void theGrafanaDashboardQueriesMetricsTheGatewayExports() throws Exception {
    lowerRate(APP);
    String appToken = token(APP);
    for (int i = 0; i < 6; i++) {
      HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/data/forms.submissions?limit=1"))
          .header("Authorization", "Bearer " + appToken).build(), HttpResponse.BodyHandlers.ofString());
    }
    String scrape = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
        + "/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Set<String> exported = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }
    String dashboard = Files.readString(Path.of("../deploy/grafana/portcullis.json"));
    Matcher m = Pattern.compile("\\b(portcullis_[a-z_]+|http_server_requests_seconds_[a-z]+)\\b").matcher(dashboard);
    Set<String> queried = new TreeSet<>();
    while (m.find()) {
      queried.add(m.group(1));
    }
    assertThat(queried).contains("portcullis_requests_total", "portcullis_requests_throttled_total",
        "portcullis_budget_used_units", "portcullis_audit_lag_seconds");
    assertThat(exported).as("the gateway's scrape").containsAll(queried);
  }
}

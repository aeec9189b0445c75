package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Anomaly response over HTTP (issue 6): four apps read steadily for three minutes of a test-controlled clock, which
 * gives each a baseline of 60 rows a minute (idle minutes do not count, so the tests' order does not matter); then a steady app stays unflagged while a bulk export of 2,000 rows makes
 * each of the others trigger its configured response — an alert, a throttle to 5 % of its rate for 10 minutes, a pause
 * that makes its token fail — each recorded as an {@code anomaly} audit event with the evidence.
 */
class AnomalyResponseTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final MutableClock CLOCK = new MutableClock(Instant.parse("2030-01-07T09:00:05Z"));
  static final List<String> APPS = List.of("steady-app", "alert-app", "throttle-app", "pause-app");
  static final String STEADY_READ = "/data/test.bulk?limit=20&order=id.asc";
  static final String BULK_EXPORT = "/data/test.bulk?limit=2000&order=id.asc";

  static QuotaGateway gateway;
  static AnomalyDetector detector;

  @BeforeAll
  static void start() {
    PG.execute("CREATE TABLE public.bulk (id bigint PRIMARY KEY, payload text NOT NULL)",
        "INSERT INTO public.bulk SELECT g, repeat('x', 20) FROM generate_series(1, 5000) g");
    String rules = "portcullis.quota.anomaly.apps.";
    gateway = QuotaGateway.start(PG, "anomaly", Map.ofEntries(
        Map.entry("portcullis.quota.anomaly.baseline-minutes", "5"),
        Map.entry("portcullis.quota.anomaly.warmup-minutes", "3"),
        // a 5x factor over 60 rows/min puts the bar at 300 rows; min-rows keeps idle apps from tripping on one read
        Map.entry(rules + "steady-app.factor", "5"),
        Map.entry(rules + "steady-app.min-rows", "50"),
        Map.entry(rules + "alert-app.factor", "5"),
        Map.entry(rules + "alert-app.min-rows", "50"),
        Map.entry(rules + "alert-app.response", "alert"),
        Map.entry(rules + "throttle-app.factor", "5"),
        Map.entry(rules + "throttle-app.min-rows", "50"),
        Map.entry(rules + "throttle-app.response", "throttle"),
        Map.entry(rules + "throttle-app.throttle-to", "0.05"),
        Map.entry(rules + "throttle-app.throttle-for", "10m"),
        Map.entry(rules + "pause-app.factor", "5"),
        Map.entry(rules + "pause-app.min-rows", "50"),
        Map.entry(rules + "pause-app.response", "pause")), CLOCK);
    detector = gateway.context().getBean(AnomalyDetector.class);
    // three steady minutes for every app: 3 reads x 20 rows = 60 rows a minute
    for (int minute = 0; minute < 3; minute++) {
      for (String app : APPS) {
        steadyMinute(app);
      }
      nextMinute();
    }
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void aSteadyAppIsNotFlagged() {
    // twice its usual volume is within the 5x factor, minute after minute
    for (int minute = 0; minute < 3; minute++) {
      steadyMinute("steady-app");
      steadyMinute("steady-app");
      nextMinute();
    }
    assertThat(gateway.get("steady-app", STEADY_READ).statusCode()).isEqualTo(200);
    assertThat(anomalyEvents("steady-app")).isEmpty();
    assertThat(gateway.counter("portcullis.quota.anomalies", "app", "steady-app")).isZero();
  }

  @Test
  void aBulkExportRaisesAnAlertWithTheEvidence() throws Exception {
    steadyMinute("alert-app");
    HttpResponse<String> export = gateway.get("alert-app", BULK_EXPORT);
    assertThat(export.statusCode()).isEqualTo(200);
    List<Evidence> events = awaitAnomalyEvents("alert-app");
    assertThat(events).hasSize(1);
    Evidence e = events.get(0);
    assertThat(e.action).isEqualTo("alert");
    assertThat(e.outcome).isEqualTo("allowed");
    assertThat(e.errorCode).isEqualTo("anomaly_rows");
    assertThat(e.rows).isEqualTo(2060);
    assertThat(e.evidence).contains("metric=rows", "observed=2060", "baseline=60", "factor=5", "threshold=300",
        "window=" + CLOCK.minuteStart() + "/PT1M", "baseline_minutes=3", "response=alert");
    // an alert changes nothing for the app
    assertThat(gateway.get("alert-app", STEADY_READ).statusCode()).isEqualTo(200);
    assertThat(gateway.counter("portcullis.quota.anomalies", "app", "alert-app", "response", "alert")).isEqualTo(1);
  }

  @Test
  void aBulkExportThrottlesTheAppForTheConfiguredPeriod() throws Exception {
    HttpResponse<String> before = gateway.get("throttle-app", STEADY_READ);
    assertThat(before.headers().firstValue("RateLimit-Limit")).hasValue("20");
    assertThat(gateway.get("throttle-app", BULK_EXPORT).statusCode()).isEqualTo(200);

    // 5 % of 20 rps with burst 20: 1 rps, burst 1
    List<HttpResponse<String>> after = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      after.add(gateway.get("throttle-app", STEADY_READ));
    }
    HttpResponse<String> refused = after.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
    assertThat(refused.body()).contains("\"code\":\"rate_limited\"").contains("throttle-app").contains("anomaly");
    assertThat(refused.headers().firstValue("RateLimit-Limit")).hasValue("1");
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(gateway.counter("portcullis.requests.throttled", "app", "throttle-app", "reason", "anomaly"))
        .isGreaterThanOrEqualTo(1);

    List<Evidence> events = awaitAnomalyEvents("throttle-app");
    assertThat(events).hasSize(1);
    assertThat(events.get(0).action).isEqualTo("throttle");
    assertThat(events.get(0).outcome).isEqualTo("throttled");
    assertThat(events.get(0).evidence).contains("observed=2020", "threshold=300", "throttle_to=0.05",
        "until=" + CLOCK.instant().plus(Duration.ofMinutes(10)));

    // the throttle ends after its period: the app's own rate is back
    CLOCK.advance(Duration.ofMinutes(10).plusSeconds(1));
    detector.rollUp();
    HttpResponse<String> restored = gateway.get("throttle-app", STEADY_READ);
    assertThat(restored.statusCode()).isEqualTo(200);
    assertThat(restored.headers().firstValue("RateLimit-Limit")).hasValue("20");
  }

  @Test
  void aBulkExportPausesTheAppAndItsTokenFails() throws Exception {
    assertThat(gateway.get("pause-app", BULK_EXPORT).statusCode()).isEqualTo(200);

    // the pause goes through the broker (PostgreSQL + NOTIFY), so every gateway refuses the token within a second
    long deadline = System.nanoTime() + 5_000_000_000L;
    HttpResponse<String> refused = gateway.get("pause-app", STEADY_READ);
    while (refused.statusCode() == 200 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      refused = gateway.get("pause-app", STEADY_READ);
    }
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("\"code\":\"app_paused\"");

    List<Evidence> events = awaitAnomalyEvents("pause-app");
    assertThat(events).hasSize(1);
    assertThat(events.get(0).action).isEqualTo("pause");
    assertThat(events.get(0).outcome).isEqualTo("denied");
    assertThat(events.get(0).evidence).contains("metric=rows", "observed=2000", "response=pause");
    assertThat(query("SELECT reason FROM portcullis.paused_apps WHERE client_id = 'pause-app'"))
        .startsWith("anomaly: metric=rows");
  }

  private static void steadyMinute(String app) {
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = gateway.get(app, STEADY_READ);
      assertThat(r.statusCode()).as("%s: %s", app, r.body()).isEqualTo(200);
    }
  }

  /** Moves the clock into the next minute and closes the one before, as the detector's one-second tick would. */
  private static void nextMinute() {
    CLOCK.advance(Duration.ofMinutes(1));
    detector.rollUp();
  }

  record Evidence(String action, String outcome, String errorCode, long rows, String evidence) {
  }

  private static List<Evidence> awaitAnomalyEvents(String app) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    List<Evidence> events = anomalyEvents(app);
    while (events.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      events = anomalyEvents(app);
    }
    return events;
  }

  private static List<Evidence> anomalyEvents(String app) {
    String sql = "SELECT action, outcome, error_code, rows, resource_id FROM portcullis.audit_events "
        + "WHERE event_type = 'anomaly' AND app_id = ? AND resource_type = 'anomaly' AND cost_center = 'CC-ANOMALY'";
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, app);
      List<Evidence> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(new Evidence(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String query(String sql) {
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
      assertThat(rs.next()).as(sql).isTrue();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A clock the test moves: minutes pass without waiting for them. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    Instant minuteStart() {
      return Instant.ofEpochSecond(now.getEpochSecond() / 60 * 60);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}

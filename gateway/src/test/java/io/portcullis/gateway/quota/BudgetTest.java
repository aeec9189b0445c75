package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.Map;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Cost budgets: the soft-limit warning header and its one audit event per period, the hard limit's 429, the cost on
 * each request's audit event, and spend in {@code portcullis.budget_spend} that a restarted gateway still enforces.
 */
class BudgetTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  /** One unit per request, whatever it returns: the arithmetic below stays exact. */
  static final Map<String, String> ONE_UNIT_PER_REQUEST = Map.of(
      "portcullis.quota.cost.base", "1", "portcullis.quota.cost.per-row", "0", "portcullis.quota.cost.per-kib", "0");

  @Test
  void softLimitWarnsOnceHardLimitRefusesAndSpendSurvivesARestart() throws Exception {
    // budget-app: 10 units per day in Europe/Berlin, warning at 80 %
    try (QuotaGateway gateway = QuotaGateway.start(PG, "budget-1", ONE_UNIT_PER_REQUEST)) {
      String lastOk = null;
      for (int i = 1; i <= 10; i++) {
        HttpResponse<String> r = gateway.get("budget-app", "/data/forms.submissions?limit=1");
        assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
        if (i <= 8) {
          assertThat(r.headers().firstValue("Portcullis-Budget")).as("request %d", i).isEmpty();
        } else {
          assertThat(r.headers().firstValue("Portcullis-Budget"))
              .hasValue("warning; used=" + (i - 1) + "; limit=10");
        }
        lastOk = r.headers().firstValue("Portcullis-Request-Id").orElseThrow();
      }
      HttpResponse<String> refused = gateway.get("budget-app", "/data/forms.submissions?limit=1");
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.body()).contains("\"code\":\"budget_exhausted\"");
      long untilBerlinMidnight = LocalDate.now(ZoneId.of("Europe/Berlin")).plusDays(1)
          .atStartOfDay(ZoneId.of("Europe/Berlin")).toInstant().getEpochSecond() - Instant.now().getEpochSecond();
      assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow()))
          .isBetween(untilBerlinMidnight - 5, untilBerlinMidnight + 5);
      assertThat(refused.headers().firstValue("RateLimit-Limit")).hasValue("100");
      assertThat(gateway.counter("portcullis.requests.throttled", "app", "budget-app", "reason", "budget")).isEqualTo(1);
      assertThat(gateway.gauge("portcullis.budget.used", "app", "budget-app")).isEqualTo(10.0);
      assertThat(gateway.gauge("portcullis.budget.remaining", "app", "budget-app")).isEqualTo(0.0);

      String requestId = lastOk;
      await("cost of the last allowed request on its audit event",
          () -> query("SELECT count(*) FROM portcullis.audit_events WHERE request_id = '" + requestId
              + "' AND cost_units = 1 AND cost_center = 'CC-BUDGET'"), 1);
      await("spend flushed to the table", () -> query(
          "SELECT count(*) FROM portcullis.budget_spend WHERE app_id = 'budget-app' AND period = 'day' "
              + "AND cost_center = 'CC-BUDGET' AND units = 10 AND period_start = "
              + "(date_trunc('day', now() AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin')"), 1);
      await("one budget warning event", () -> warnings(), 1);
    }
    // a new process on the same database: the spend is loaded, the hard limit still holds, no second warning
    try (QuotaGateway restarted = QuotaGateway.start(PG, "budget-2", ONE_UNIT_PER_REQUEST)) {
      HttpResponse<String> r = restarted.get("budget-app", "/data/forms.submissions?limit=1");
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.body()).contains("budget_exhausted").contains("used 10");
      Thread.sleep(1500);
      assertThat(warnings()).isEqualTo(1);
    }
  }

  @Test
  void spendOfAppsWithoutABudgetIsAttributedToTheirCostCentre() throws Exception {
    try (QuotaGateway gateway = QuotaGateway.start(PG, "attribution", Map.of())) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = gateway.get("sandbox-app", "/data/forms.submissions?limit=2");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Portcullis-Budget")).isEmpty();
      }
      // default cost: 1 per request + 0.01 per row + 0.1 per KiB, weight 1
      await("sandbox spend attributed to CC-SANDBOX", () -> query(
          "SELECT count(*) FROM portcullis.budget_spend WHERE app_id = 'sandbox-app' AND period = 'day' "
              + "AND cost_center = 'CC-SANDBOX' AND units > 3.06 AND units < 3.5"), 1);
    }
  }

  static long warnings() {
    return query("SELECT count(*) FROM portcullis.audit_events WHERE event_type = 'budget_warning' "
        + "AND app_id = 'budget-app' AND cost_center = 'CC-BUDGET'");
  }

  static long query(String sql) {
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  static void await(String what, LongSupplier value, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    long seen = value.getAsLong();
    while (seen != expected && System.nanoTime() < deadline) {
      Thread.sleep(100);
      seen = value.getAsLong();
    }
    assertThat(seen).as(what).isEqualTo(expected);
  }
}

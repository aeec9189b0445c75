package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.gateway.pipeline.QueryEstimate;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cost guard on both kinds of server: PostgreSQL 16+ prices a shape once by its generic plan, whatever the values;
 * an older server (the machine's own PostgreSQL 15, or {@code PORTCULLIS_TEST_LEGACY_PG_URL}) is asked with the
 * actual values bound, so a selective value and an unselective one are priced apart.
 */
class CostGuardTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  /** 200,000 rows; 10 of them 'rare'. Ordered by an unindexed column, 'common' sorts the whole table. */
  static final String[] SEED = {
      "CREATE TABLE items AS SELECT g::bigint AS id, CASE WHEN g % 20000 = 0 THEN 'rare' ELSE 'common' END AS kind,"
          + " md5(g::text) AS name FROM generate_series(1, 200000) g",
      "CREATE INDEX items_kind ON items (kind)",
      "ANALYZE items"};

  static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void beforePostgres16EachValueIsPricedByItselfWithItsValuesBound() throws Exception {
    String admin = System.getenv().getOrDefault("PORTCULLIS_TEST_LEGACY_PG_URL",
        "postgresql://postgres@127.0.0.1:5432/postgres");
    URI server = URI.create(admin);
    String user = server.getUserInfo() == null ? "postgres" : server.getUserInfo().split(":", 2)[0];
    String password = server.getUserInfo() == null || !server.getUserInfo().contains(":") ? ""
        : server.getUserInfo().split(":", 2)[1];
    String host = server.getHost() + ":" + (server.getPort() < 0 ? 5432 : server.getPort());
    String db = "t_cg_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    try (Connection c = legacy(host, server.getPath().substring(1), user, password)) {
      Assumptions.assumeTrue(c != null, "no PostgreSQL before 16 at " + host + " (PORTCULLIS_TEST_LEGACY_PG_URL)");
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
        rs.next();
        Assumptions.assumeTrue(rs.getInt(1) < 160000, "the server at " + host + " has generic plans already");
      }
      c.createStatement().execute("CREATE DATABASE " + db);
    }
    try {
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + "/" + db, user, password);
          Statement st = c.createStatement()) {
        for (String sql : SEED) {
          st.execute(sql);
        }
      }
      ConnectionFactory connections = ConnectionFactories.get(
          "r2dbc:postgresql://" + user + (password.isEmpty() ? "" : ":" + password) + "@" + host + "/" + db);
      CostGuard guard = new CostGuard(100, Duration.ofMinutes(10));

      QueryEstimate rare = guard.estimate("legacy", connections, byKind("rare")).block(WAIT);
      QueryEstimate common = guard.estimate("legacy", connections, byKind("common")).block(WAIT);
      assertThat(guard.genericPlans("legacy")).as("a PostgreSQL 15 source is known to have no generic plans").isFalse();
      assertThat(common.plannerCost()).as("sorting 199,990 rows vs 10").isGreaterThan(rare.plannerCost() * 10);
      assertThat(rare.rows()).isLessThan(100);
      // a value is a bound parameter, never statement text
      QueryEstimate quoted = guard.estimate("legacy", connections, byKind("x' OR '1'='1")).block(WAIT);
      assertThat(quoted.rows()).isLessThan(100);

      // known values are answered from the cache (the table is gone: asking the server would fail); a new one is not
      drop(host, db, user, password);
      assertThat(guard.estimate("legacy", connections, byKind("rare")).block(WAIT)).isEqualTo(rare);
      assertThat(guard.estimate("legacy", connections, byKind("common")).block(WAIT)).isEqualTo(common);
      assertThatThrownBy(() -> guard.estimate("legacy", connections, byKind("other")).block(WAIT))
          .isInstanceOf(io.r2dbc.spi.R2dbcException.class);
    } finally {
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + "/" + server.getPath().substring(1),
          user, password)) {
        c.createStatement().execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    }
  }

  @Test
  void fromPostgres16AShapeIsPricedOnceByItsGenericPlanWhateverTheValues() throws Exception {
    PG.execute(SEED);
    ConnectionFactory connections = ConnectionFactories.get(PG.r2dbcUrl());
    CostGuard guard = new CostGuard(100, Duration.ofMinutes(10));

    QueryEstimate rare = guard.estimate("", connections, byKind("rare")).block(WAIT);
    assertThat(guard.genericPlans("")).isTrue();
    PG.execute("DROP TABLE items");
    // the same shape with another value: the cached generic estimate, no round trip (the table is gone)
    assertThat(guard.estimate("", connections, byKind("common")).block(WAIT)).isEqualTo(rare);
  }

  @Test
  void boundValuesAreKeyedExactly() {
    assertThat(CostGuard.valuesKey(List.of(new String[] {"a,b"})))
        .isNotEqualTo(CostGuard.valuesKey(List.of(new String[] {"a", "b"})));
    assertThat(CostGuard.valuesKey(List.of("1"))).isNotEqualTo(CostGuard.valuesKey(List.of(1)));
    assertThat(CostGuard.valuesKey(Arrays.asList("a", null))).isNotEqualTo(CostGuard.valuesKey(List.of("a", "null")));
    assertThat(CostGuard.valuesKey(List.of(new long[] {1, 2}))).isEqualTo(CostGuard.valuesKey(List.of(new long[] {1, 2})));
    assertThat(CostGuard.majorVersion("15.20 (Debian 15.20-0+deb12u1)")).isEqualTo(15);
    assertThat(CostGuard.majorVersion("18.1")).isEqualTo(18);
    assertThat(CostGuard.majorVersion("9.6.24")).isEqualTo(9);
    assertThat(CostGuard.majorVersion("unknown")).isZero();
  }

  /** What the reader builds for {@code ?kind=eq.<kind>&order=name.asc&limit=1000}. */
  static SelectStatement byKind(String kind) {
    return new SelectStatement("SELECT \"id\", \"name\" FROM \"public\".\"items\" WHERE (TRUE) AND \"kind\" = $1"
        + " ORDER BY \"name\" ASC LIMIT $2", List.of(kind, 1001), List.of("id", "name"), 2, "test");
  }

  private static Connection legacy(String host, String db, String user, String password) {
    try {
      return DriverManager.getConnection("jdbc:postgresql://" + host + "/" + db + "?connectTimeout=3", user, password);
    } catch (SQLException unreachable) {
      return null;
    }
  }

  private static void drop(String host, String db, String user, String password) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + "/" + db, user, password)) {
      c.createStatement().execute("DROP TABLE items");
    }
  }
}

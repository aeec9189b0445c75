package io.portcullis.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.portcullis.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Shared test fixtures: keys, events, and SQL helpers that read the table as a superuser. */
final class AuditFixtures {

  static final ECKey KEY = generate("audit-test-1");
  static final JWKSet PUBLIC_KEYS = new JWKSet(KEY.toPublicJWK());

  private AuditFixtures() {}

  static ECKey generate(String kid) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static AuditEvent request(int i) {
    return AuditEvent.builder().requestId("req-" + i).actorId("user-" + (i % 4)).appId("app-" + (i % 3)).tier(1)
        .action("read").resourceType(i % 2 == 0 ? "hr.approvals" : "inventory.items").outcome(Outcome.ALLOWED)
        .status(200).rows((long) i).bytes(100L * i).costUnits(1.0 + i / 10.0).latencyMs(2.5).build();
  }

  static List<Long> seqs(PostgresExtension pg, String chainId) {
    return longs(pg, "SELECT seq FROM portcullis.audit_events WHERE chain_id = '" + chainId + "' ORDER BY seq");
  }

  static List<Long> longs(PostgresExtension pg, String sql) {
    try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      List<Long> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs statements with the append-only triggers off, as an attacker with superuser rights would. */
  static void tamper(PostgresExtension pg, String... sql) {
    String[] all = new String[sql.length + 1];
    all[0] = "SET session_replication_role = replica";
    System.arraycopy(sql, 0, all, 1, sql.length);
    pg.execute(all);
  }

  static void await(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within " + timeout);
      }
      Thread.sleep(20);
    }
  }
}

package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresAuditSinkTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ConnectionFactory cf;
  static PostgresAuditSink sink;

  @BeforeAll
  static void schema() {
    cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditSchema.apply(cf).block(Duration.ofSeconds(30));
    sink = new PostgresAuditSink(cf);
  }

  static List<AuditEvent> chain(String chainId, int n, Instant start) {
    HashChain chain = new HashChain(chainId, 0, HashChain.GENESIS);
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      events.add(chain.append(AuditJsonTest.sample().toBuilder().eventId(null)
          .timestamp(start.plusMillis(i)).appId("app-" + (i % 3)).build()));
    }
    return events;
  }

  static long count(String where) {
    try (Connection c = PG.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM portcullis.audit_events WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void applyingTheSchemaTwiceIsHarmlessAndCreatesThisAndNextMonth() throws SQLException {
    Clock march = Clock.fixed(Instant.parse("2031-03-15T00:00:00Z"), ZoneOffset.UTC);
    AuditSchema.apply(cf, march).block(Duration.ofSeconds(30));
    AuditSchema.apply(cf, march).block(Duration.ofSeconds(30));

    try (Connection c = PG.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            + "WHERE i.inhparent = 'portcullis.audit_events'::regclass")) {
      List<String> parts = new ArrayList<>();
      while (rs.next()) {
        parts.add(rs.getString(1));
      }
      assertThat(parts).contains("audit_events_default", "audit_events_2031_03", "audit_events_2031_04");
    }
  }

  @Test
  void writesABatchInOneStatementAndSkipsReplays() {
    List<AuditEvent> events = chain("sink-a", 50, Instant.parse("2026-05-31T23:59:59.990Z"));

    sink.write(events.subList(0, 40)).block(Duration.ofSeconds(10));
    sink.write(events.subList(10, 30)).block(Duration.ofSeconds(10)); // a replay: all stored already
    assertThat(count("chain_id = 'sink-a'")).isEqualTo(40);
    sink.write(events.subList(30, 50)).block(Duration.ofSeconds(10)); // half stored, half new

    assertThat(count("chain_id = 'sink-a'")).isEqualTo(50);
    // the batch crossed a month boundary: the sink prepared June's partition rather than using the default one
    assertThat(count("chain_id = 'sink-a' AND tableoid = 'portcullis.audit_events_default'::regclass")).isZero();
    assertThat(sink.head("sink-a").block()).isEqualTo(new ChainHead("sink-a", 50, events.get(49).hash()));
    assertThat(sink.head("nobody").block()).isNull();
  }

  @Test
  void storedEventsReadBackIdenticalSoTheirHashesStillVerify() {
    List<AuditEvent> events = chain("sink-b", 3, Instant.parse("2026-07-01T10:00:00.123456Z"));
    sink.write(events).block(Duration.ofSeconds(10));

    List<AuditEvent> back = AuditQuery.create(cf).chain("sink-b", 1, Long.MAX_VALUE).collectList().block();

    assertThat(back).containsExactlyElementsOf(events);
    assertThat(back).allMatch(HashChain::selfConsistent);
  }

  @Test
  void unusualValuesSurviveTheJsonInsertExactly() {
    HashChain chain = new HashChain("sink-d", 0, HashChain.GENESIS);
    List<AuditEvent> events = new ArrayList<>();
    for (AuditEvent e : HashChainTest.tricky()) {
      events.add(chain.append(e.toBuilder().eventId(null).timestamp(Instant.parse("2026-08-01T10:00:00.000001Z"))
          .build()));
    }
    sink.write(events).block(Duration.ofSeconds(10));
    sink.write(events).block(Duration.ofSeconds(10));

    List<AuditEvent> back = AuditQuery.create(cf).chain("sink-d", 1, Long.MAX_VALUE).collectList().block();

    assertThat(back).containsExactlyElementsOf(events);
    assertThat(back).allMatch(HashChain::selfConsistent);
  }

  @Test
  void refusesUpdateDeleteAndTruncateEvenForTheOwner() {
    sink.write(chain("sink-c", 2, Instant.now())).block(Duration.ofSeconds(10));

    assertThatThrownBy(() -> PG.execute("UPDATE portcullis.audit_events SET status = 500 WHERE chain_id = 'sink-c'"))
        .hasMessageContaining("append-only");
    assertThatThrownBy(() -> PG.execute("DELETE FROM portcullis.audit_events WHERE chain_id = 'sink-c'"))
        .hasMessageContaining("append-only");
    assertThatThrownBy(() -> PG.execute("TRUNCATE portcullis.audit_events"))
        .hasMessageContaining("append-only");
    assertThatThrownBy(() -> PG.execute("TRUNCATE portcullis.audit_events_default"))
        .hasMessageContaining("append-only");
    PG.execute("INSERT INTO portcullis.audit_checkpoints VALUES ('sink-c', 2, 'h', 2, now(), 'k', 'jws')");
    assertThatThrownBy(() -> PG.execute("DELETE FROM portcullis.audit_checkpoints"))
        .hasMessageContaining("append-only");
    assertThat(count("chain_id = 'sink-c'")).isEqualTo(2);
  }

  @Test
  void partitionsRefuseTruncateToo() {
    Instant now = Instant.now();
    String part = "audit_events_" + now.atZone(ZoneOffset.UTC).getYear() + "_"
        + String.format("%02d", now.atZone(ZoneOffset.UTC).getMonthValue());
    assertThatThrownBy(() -> PG.execute("TRUNCATE portcullis." + part)).hasMessageContaining("append-only");
  }
}

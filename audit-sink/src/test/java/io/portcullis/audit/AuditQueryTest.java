package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;

class AuditQueryTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static AuditQuery query;
  static List<AuditEvent> events = new ArrayList<>();
  static final Instant T0 = Instant.parse("2026-09-01T12:00:00Z");

  @BeforeAll
  static void data() {
    ConnectionFactory cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditSchema.apply(cf).block(Duration.ofSeconds(30));
    HashChain chain = new HashChain("q", 0, HashChain.GENESIS);
    for (int i = 0; i < 60; i++) {
      // pairs of events share a timestamp, so paging must break ties on event_id
      AuditEvent e = AuditFixtures.request(i);
      // as the gateway records them: resource_type 'dataset', the dataset's name in resource_id
      events.add(chain.append(e.toBuilder().resourceType("dataset").resourceId(e.resourceType())
          .timestamp(T0.plusSeconds(i / 2))
          .outcome(i % 5 == 0 ? Outcome.DENIED : Outcome.ALLOWED).build()));
    }
    new PostgresAuditSink(cf).write(events).block(Duration.ofSeconds(10));
    query = AuditQuery.create(cf);
  }

  @Test
  void filtersByAppActorDatasetOutcomeAndTime() {
    List<AuditEvent> found = query.find(AuditFilter.ANY.withApp("app-1").withDataset("inventory.items")
        .withOutcome(Outcome.ALLOWED).between(T0.plusSeconds(5), T0.plusSeconds(25)), null, 100).collectList().block();

    List<AuditEvent> expected = events.stream()
        .filter(e -> e.appId().equals("app-1") && e.resourceId().equals("inventory.items")
            && e.outcome() == Outcome.ALLOWED && !e.timestamp().isBefore(T0.plusSeconds(5))
            && e.timestamp().isBefore(T0.plusSeconds(25)))
        .toList();
    assertThat(expected).isNotEmpty();
    assertThat(found).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(query.find(AuditFilter.ANY.withActor("user-3"), null, 100).collectList().block())
        .hasSize(15).allMatch(e -> e.actorId().equals("user-3"));
  }

  @Test
  void pagesThroughEverythingOnceNewestFirst() {
    List<AuditEvent> seen = new ArrayList<>();
    AuditCursor cursor = null;
    while (true) {
      List<AuditEvent> page = query.find(AuditFilter.ANY, cursor, 7).collectList().block();
      if (page.isEmpty()) {
        break;
      }
      seen.addAll(page);
      // through its text form, as the admin API hands it out
      cursor = AuditCursor.decode(AuditCursor.after(page.get(page.size() - 1)).encode());
    }

    assertThat(seen).containsExactlyInAnyOrderElementsOf(events).doesNotHaveDuplicates();
    assertThat(seen.get(0).timestamp()).isEqualTo(T0.plusSeconds(29));
    for (int i = 1; i < seen.size(); i++) {
      assertThat(seen.get(i).timestamp()).isBeforeOrEqualTo(seen.get(i - 1).timestamp());
    }
  }

  @Test
  void pagesOldestFirstToo() {
    List<AuditEvent> first = query.find(AuditFilter.ANY.oldestFirst(), null, 3).collectList().block();
    List<AuditEvent> second = query.find(AuditFilter.ANY.oldestFirst(), AuditCursor.after(first.get(2)), 3)
        .collectList().block();

    assertThat(first).extracting(AuditEvent::timestamp).containsOnly(T0, T0.plusSeconds(1));
    assertThat(second).extracting(AuditEvent::timestamp).containsOnly(T0.plusSeconds(1), T0.plusSeconds(2));
    assertThat(second).doesNotContainAnyElementsOf(first);
  }

  @Test
  void rejectsBadLimitsAndCursors() {
    assertThatThrownBy(() -> query.find(AuditFilter.ANY, null, 0)).hasMessage("limit: 0 (expected: 1..10000)");
    assertThatThrownBy(() -> AuditCursor.decode("bm9wZQ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void exportsCsvWithAHeaderAndNeutralisedFormulas() {
    AuditEvent evil = events.get(0).toBuilder().actorId("=HYPERLINK(\"http://x\")").resourceId("a,b").build();

    List<String> lines = AuditCsv.write(Flux.just(evil)).collectList().block();

    assertThat(lines.get(0)).startsWith("event_id,timestamp,event_type,").endsWith("hash\r\n");
    assertThat(lines.get(1)).contains(",\"'=HYPERLINK(\"\"http://x\"\")\",").contains(",\"a,b\",")
        .contains(",denied,200,").endsWith(evil.hash() + "\r\n");
    assertThat(lines.get(1).split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1)).hasSize(30);
  }
}

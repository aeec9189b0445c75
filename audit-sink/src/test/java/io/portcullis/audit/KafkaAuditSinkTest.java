package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

class KafkaAuditSinkTest {

  static final String TOPIC = "portcullis.audit";
  static final String RESTART_TOPIC = "portcullis.audit.restart";
  static EmbeddedKafkaKraftBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = new EmbeddedKafkaKraftBroker(1, 3, TOPIC, RESTART_TOPIC);
    broker.afterPropertiesSet();
  }

  @AfterAll
  static void stopBroker() {
    broker.destroy();
  }

  @Test
  void publishesEachEventOnceKeyedByAppInChainOrder() {
    HashChain chain = new HashChain("gw-kafka", 0, HashChain.GENESIS);
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      events.add(chain.append(AuditFixtures.request(i)));
    }
    events.add(chain.append(AuditEvent.builder().eventType(EventType.ADMIN_CHANGE).actorId("admin").build()));

    try (KafkaAuditSink sink = new KafkaAuditSink(broker.getBrokersAsString(), TOPIC)) {
      sink.write(events.subList(0, 10)).block(Duration.ofSeconds(30));
      sink.write(events.subList(10, 31)).block(Duration.ofSeconds(30));
    }

    List<ConsumerRecord<String, byte[]>> records = consume(TOPIC, 31);
    assertThat(records).hasSize(31);
    Map<String, AuditEvent> byId = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      AuditEvent e = AuditJson.fromJson(r.value());
      assertThat(byId.put(e.eventId().toString(), e)).as("delivered twice: %s", e.eventId()).isNull();
      assertThat(r.key()).isEqualTo(e.appId() != null ? e.appId() : "gw-kafka");
      assertThat(new String(r.headers().lastHeader("event_id").value(), StandardCharsets.US_ASCII))
          .isEqualTo(e.eventId().toString());
      assertThat(HashChain.selfConsistent(e)).isTrue();
    }
    assertThat(byId.values()).containsExactlyInAnyOrderElementsOf(events);
    // one app, one partition, in chain order
    Map<String, List<Long>> seqsByKey = records.stream().collect(Collectors.groupingBy(ConsumerRecord::key,
        Collectors.mapping(r -> AuditJson.fromJson(r.value()).seq(), Collectors.toList())));
    seqsByKey.values().forEach(seqs -> assertThat(seqs).isSorted());
    Map<String, Set<Integer>> partitionsByKey = records.stream().collect(Collectors.groupingBy(ConsumerRecord::key,
        Collectors.mapping(ConsumerRecord::partition, Collectors.toSet())));
    partitionsByKey.values().forEach(p -> assertThat(p).hasSize(1));
  }

  @Test
  void chainContinuesAfterTheGatewayDiesWithEveryJournaledEventPublishedOnce(@TempDir Path spill) throws Exception {
    KafkaAuditSink first = new KafkaAuditSink(broker.getBrokersAsString(), RESTART_TOPIC);
    KafkaAuditSink second = new KafkaAuditSink(broker.getBrokersAsString(), RESTART_TOPIC);
    try {
      List<AuditEvent> seen = new ArrayList<>();
      AuditPipelineRestartTest.survivesDeathAfterJournaling(first, () -> second, "gw-kafka-restart", spill, () -> {
        // first call: what the dead gateway published; second: everything, read to the end of the topic
        List<ConsumerRecord<String, byte[]>> records = consume(RESTART_TOPIC, seen.isEmpty() ? 25 : 35 - seen.size());
        records.forEach(r -> seen.add(AuditJson.fromJson(r.value())));
        return List.copyOf(seen);
      });
    } finally {
      first.close();
      second.close();
    }
  }

  static List<ConsumerRecord<String, byte[]>> consume(String topic, int expected) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString(),
        ConsumerConfig.GROUP_ID_CONFIG, "audit-test-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      // keep polling a little after reaching the count, so a duplicate would show up
      long quietUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(end, quietUntil)) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        if (out.size() >= expected && quietUntil == Long.MAX_VALUE) {
          quietUntil = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        }
      }
    }
    return out;
  }
}

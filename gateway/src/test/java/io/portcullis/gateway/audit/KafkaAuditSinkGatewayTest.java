package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;


import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditJson;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.lineage.LineageEmitter;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code portcullis.audit.sink=kafka}: each request's one event lands on the topic, keyed by its app; with
 * {@code portcullis.lineage.transport=kafka} the same requests become OpenLineage runs on another topic.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class KafkaAuditSinkGatewayTest {

  static final String TOPIC = "portcullis.audit.test";
  static final String LINEAGE_TOPIC = "openlineage.test";
  static final JsonMapper JSON = JsonMapper.builder().build();

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final EmbeddedKafkaKraftBroker KAFKA = startBroker();

  static EmbeddedKafkaKraftBroker startBroker() {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 2, TOPIC, LINEAGE_TOPIC);
    broker.afterPropertiesSet();
    return broker;
  }

  @AfterAll
  static void stopBroker() {
    KAFKA.destroy();
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.audit.sink", () -> "kafka");
    registry.add("portcullis.audit.kafka.bootstrap-servers", KAFKA::getBrokersAsString);
    registry.add("portcullis.audit.kafka.topic", () -> TOPIC);
    registry.add("portcullis.lineage.enabled", () -> "true");
    registry.add("portcullis.lineage.transport", () -> "kafka");
    registry.add("portcullis.lineage.kafka.bootstrap-servers", KAFKA::getBrokersAsString);
    registry.add("portcullis.lineage.kafka.topic", () -> LINEAGE_TOPIC);
  }

  @LocalServerPort
  int port;

  @Autowired
  AuditPipeline pipeline;

  @Autowired
  MeterRegistry meters;

  @Autowired
  LineageEmitter lineage;

  @Test
  void eachRequestIsOneEventOnTheTopicKeyedByItsApp() {
    WebTestClient client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
    Map<String, String> appOfRequest = new HashMap<>();
    for (String app : List.of("survey-sandbox", "team-inventory")) {
      String token = GatewayTestSupport.token(client, PG, app);
      String path = app.equals("survey-sandbox") ? "/data/forms.submissions?limit=2" : "/data/inventory.items?limit=2";
      for (int i = 0; i < 3; i++) {
        String requestId = client.get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange()
            .expectStatus().isOk().returnResult(String.class).getResponseHeaders().getFirst("Portcullis-Request-Id");
        appOfRequest.put(requestId, app);
      }
    }
    // denied without a token: still one event, no app (keyed by the chain)
    String anonymous = client.get().uri("/data/forms.submissions").exchange().expectStatus().isUnauthorized()
        .returnResult(String.class).getResponseHeaders().getFirst("Portcullis-Request-Id");
    pipeline.flush().block(Duration.ofSeconds(30));

    Map<String, List<ConsumerRecord<String, byte[]>>> byRequest = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : consumeAll(TOPIC)) {
      AuditEvent e = AuditJson.fromJson(r.value());
      if (e.eventType() == EventType.REQUEST) {
        byRequest.computeIfAbsent(e.requestId(), k -> new ArrayList<>()).add(r);
      }
    }
    appOfRequest.forEach((requestId, app) -> {
      assertThat(byRequest.get(requestId)).as("events of request %s", requestId).hasSize(1);
      ConsumerRecord<String, byte[]> r = byRequest.get(requestId).get(0);
      assertThat(r.key()).isEqualTo(app);
      assertThat(AuditJson.fromJson(r.value()).appId()).isEqualTo(app);
    });
    assertThat(byRequest.get(anonymous)).hasSize(1);
    assertThat(byRequest.get(anonymous).get(0).key()).isEqualTo(pipeline.chainId());

    assertThat(meters.get("portcullis.audit.written").tag("sink", "kafka").functionCounter().count())
        .isGreaterThanOrEqualTo(appOfRequest.size() + 1);
    assertThat(meters.get("portcullis.audit.sink.healthy").gauge().value()).isEqualTo(1.0);
    assertThat(meters.get("portcullis.audit.spill.backlog").gauge().value()).isZero();

    // lineage of the same requests: per app and minute, the dataset read as an input with its request count
    lineage.flushAll().block(Duration.ofSeconds(30));
    Map<String, Long> readsByJobAndDataset = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : consumeAll(LINEAGE_TOPIC)) {
      JsonNode run = JSON.readTree(r.value());
      assertThat(r.key()).isEqualTo("portcullis/" + run.at("/job/name").asText());
      run.at("/inputs").forEach(in -> readsByJobAndDataset.merge(run.at("/job/name").asText() + " " + in.at("/name").asText(),
          in.at("/inputFacets/portcullis_access/requests").asLong(), Long::sum));
    }
    assertThat(readsByJobAndDataset).containsEntry("survey-sandbox forms.submissions", 3L)
        .containsEntry("team-inventory inventory.items", 3L);
  }

  static List<ConsumerRecord<String, byte[]>> consumeAll(String topic) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBrokersAsString(),
        ConsumerConfig.GROUP_ID_CONFIG, "audit-gateway-test-" + topic,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      int emptyPolls = 0;
      // everything was acknowledged before we poll (flush above): stop after the topic runs dry
      while (System.nanoTime() < deadline && (records.isEmpty() || emptyPolls < 2)) {
        int before = records.size();
        consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        emptyPolls = records.size() == before ? emptyPolls + 1 : 0;
      }
    }
    return records;
  }
}

package io.portcullis.audit.lineage;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Publishes each event to a Kafka topic keyed by its job ({@code namespace/name}), as the OpenLineage Kafka
 * transport does. {@code send} may block on metadata, so it is issued on {@code boundedElastic}.
 */
public final class KafkaLineageTransport implements LineageTransport {

  private final Producer<String, String> producer;
  private final String topic;

  public KafkaLineageTransport(String bootstrapServers, String topic) {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    this.producer = new KafkaProducer<>(c);
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  @Override
  public Mono<Void> send(String job, String json) {
    return Mono.defer(() -> {
      Sinks.Empty<Void> acked = Sinks.empty();
      producer.send(new ProducerRecord<>(topic, job, json), (metadata, error) -> {
        if (error != null) {
          acked.tryEmitError(error);
        } else {
          acked.tryEmitEmpty();
        }
      });
      return acked.asMono();
    }).subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public String name() {
    return "kafka:" + topic;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}

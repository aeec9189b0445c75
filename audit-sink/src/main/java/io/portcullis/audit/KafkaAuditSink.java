package io.portcullis.audit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Publishes each event to a Kafka topic: key {@code app_id} (or {@code chain_id} for events without an app, e.g.
 * admin changes), value the canonical JSON, headers {@code event_id} and {@code chain_id}. The producer is idempotent
 * with {@code acks=all}, so broker-side retries never duplicate; a batch replayed by the pipeline after a timeout may
 * (at-least-once), and consumers de-duplicate by {@code event_id}. Events of one app keep their order (one partition);
 * across apps, consumers order by ({@code chain_id}, {@code seq}).
 *
 * <p>{@code send} can block on metadata or a full buffer ({@code max.block.ms}), so sends are issued on
 * {@code boundedElastic}; acknowledgements complete on the producer's I/O thread.
 */
public final class KafkaAuditSink implements AuditSink, AutoCloseable {

  private final Producer<String, byte[]> producer;
  private final String topic;

  /** A producer on {@code bootstrapServers} with this sink's required settings. */
  public KafkaAuditSink(String bootstrapServers, String topic) {
    this(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrapServers, "bootstrapServers")),
        topic);
  }

  /**
   * A producer from {@code config} (security, client id, compression…); acks, idempotence and serializers are
   * forced, since the audit's guarantees depend on them.
   */
  public KafkaAuditSink(Map<String, Object> config, String topic) {
    this(new KafkaProducer<>(producerConfig(config)), topic);
  }

  KafkaAuditSink(Producer<String, byte[]> producer, String topic) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.topic = Objects.requireNonNull(topic, "topic");
  }

  static Map<String, Object> producerConfig(Map<String, Object> config) {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
    c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000); // >= linger + request timeout
    c.putAll(Objects.requireNonNull(config, "config"));
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5); // the most idempotence keeps in order
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return c;
  }

  @Override
  public String name() {
    return "kafka:" + topic;
  }

  @Override
  public Mono<Void> write(List<AuditEvent> batch) {
    Objects.requireNonNull(batch, "batch");
    if (batch.isEmpty()) {
      return Mono.empty();
    }
    return Mono.fromCallable(() -> sendAll(batch))
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(Mono::fromFuture);
  }

  /** Issues every send in order (the producer keeps per-partition order) and returns when all are acknowledged. */
  private CompletableFuture<Void> sendAll(List<AuditEvent> batch) {
    CompletableFuture<?>[] acks = new CompletableFuture<?>[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      AuditEvent e = batch.get(i);
      ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key(e), AuditJson.toJsonBytes(e));
      record.headers().add("event_id", e.eventId().toString().getBytes(StandardCharsets.US_ASCII));
      if (e.chainId() != null) {
        record.headers().add("chain_id", e.chainId().getBytes(StandardCharsets.UTF_8));
      }
      CompletableFuture<Void> ack = new CompletableFuture<>();
      producer.send(record, (metadata, error) -> {
        if (error != null) {
          ack.completeExceptionally(error);
        } else {
          ack.complete(null);
        }
      });
      acks[i] = ack;
    }
    return CompletableFuture.allOf(acks);
  }

  static String key(AuditEvent e) {
    return e.appId() != null ? e.appId() : e.chainId();
  }

  /** Flushes and closes the producer (blocking, up to 10 s: call at shutdown). */
  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}

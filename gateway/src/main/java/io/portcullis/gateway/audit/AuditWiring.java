package io.portcullis.gateway.audit;

import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditSchema;
import io.portcullis.audit.AuditSink;
import io.portcullis.audit.JsonLinesAuditSink;
import io.portcullis.audit.KafkaAuditSink;
import io.portcullis.audit.PostgresAuditSink;
import io.portcullis.audit.lineage.LineageAggregator;
import io.portcullis.broker.BrokerEventListener;
import io.portcullis.gateway.config.SnapshotHolder;
import io.r2dbc.spi.ConnectionFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The audit stage's pipeline: the sink chosen by {@code portcullis.audit.sink} (PostgreSQL append-only table by
 * default, Kafka topic, or JSON-lines files), the spill file while it is down, and its meters.
 */
@Configuration(proxyBeanMethods = false)
class AuditWiring {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean
  AuditChain auditChain(AuditProperties properties, @Value("${server.port:8080}") int port) {
    return new AuditChain(properties.chainId().isBlank() ? hostName() + ":" + port : properties.chainId());
  }

  /** Closed after the pipeline (which depends on it), so the pipeline's last drain still reaches it. */
  @Bean
  AuditSink auditSink(ConnectionFactory connections, AuditProperties properties, AuditChain chain) {
    // the table exists whatever the sink: the admin API's audit query and checkpoints read it
    AuditSchema.apply(connections).block(STARTUP_TIMEOUT);
    return switch (properties.sink()) {
      case POSTGRES -> new PostgresAuditSink(connections);
      case KAFKA -> new KafkaAuditSink(properties.kafka().bootstrapServers(), properties.kafka().topic());
      case FILE -> new JsonLinesAuditSink(properties.file().directory(),
          "audit-" + chain.id().replaceAll("[^A-Za-z0-9._-]", "_"), properties.file().maxBytes().toBytes());
    };
  }

  @Bean(destroyMethod = "close")
  AuditPipeline auditPipeline(AuditSink sink, AuditProperties properties, AuditChain chain) {
    AuditPipeline pipeline = AuditPipeline.builder(sink, chain.id(), properties.spillDir())
        .batchSize(properties.batchSize())
        .probeInterval(Duration.ofMillis(500), properties.maxProbeInterval())
        .build();
    pipeline.start().block(STARTUP_TIMEOUT);
    return pipeline;
  }

  @Bean
  AuditMetrics auditMetrics(AuditPipeline pipeline, AuditSink sink) {
    return new AuditMetrics(pipeline, sink);
  }

  @Bean
  AuditGate auditGate(AuditPipeline pipeline) {
    return new AuditGate(pipeline);
  }

  @Bean
  AuditRecorder auditRecorder(AuditPipeline pipeline, SnapshotHolder snapshots,
      ObjectProvider<LineageAggregator> lineage) {
    return new AuditRecorder(pipeline, snapshots, lineage.getIfAvailable());
  }

  @Bean
  BrokerEventListener brokerAuditListener(AuditPipeline pipeline, SnapshotHolder snapshots) {
    return new BrokerAuditListener(pipeline, snapshots);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "gateway";
    }
  }

  /** This instance's hash chain id. */
  record AuditChain(String id) {
  }
}

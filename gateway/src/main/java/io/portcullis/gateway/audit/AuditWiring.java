package io.portcullis.gateway.audit;

import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditSchema;
import io.portcullis.audit.AuditSink;
import io.portcullis.audit.CheckpointSigner;
import io.portcullis.audit.CheckpointStore;
import io.portcullis.audit.PostgresCheckpointStore;
import io.portcullis.audit.JsonLinesAuditSink;
import io.portcullis.audit.KafkaAuditSink;
import io.portcullis.audit.PostgresAuditSink;
import io.portcullis.audit.lineage.LineageAggregator;
import io.portcullis.broker.BrokerEventListener;
import io.portcullis.gateway.config.InstanceSigningKey;
import io.portcullis.gateway.config.SnapshotHolder;
import io.r2dbc.spi.ConnectionFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import io.portcullis.audit.AuditEvent;
import java.time.Duration;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import reactor.core.publisher.Mono;

/**
 * The audit stage's pipeline: the sink chosen by {@code portcullis.audit.sink} (PostgreSQL append-only table by
 * default, Kafka topic, or JSON-lines files), the spill file while it is down, signed checkpoints, and its meters.
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
  AuditSink auditSink(ConnectionFactory connections, AuditProperties properties, AuditChain chain,
      Environment environment) {
    // the table exists whatever the sink: the admin API's audit query and checkpoints read it
    AuditSchema.apply(connections).block(STARTUP_TIMEOUT);
    return switch (properties.sink()) {
      case NONE -> benchmarkOnly(environment);
      case POSTGRES -> new PostgresAuditSink(connections);
      case KAFKA -> new KafkaAuditSink(properties.kafka().bootstrapServers(), properties.kafka().topic());
      case FILE -> new JsonLinesAuditSink(properties.file().directory(),
          "audit-" + chain.id().replaceAll("[^A-Za-z0-9._-]", "_"), properties.file().maxBytes().toBytes());
    };
  }

  /**
   * Closed (draining, then one last checkpoint) before the connection factory and the sink it depends on. Checkpoints
   * go to PostgreSQL whatever the sink, signed with the gateway's instance key; with the audit off there is no chain
   * worth vouching for.
   */
  @Bean(destroyMethod = "close")
  AuditPipeline auditPipeline(AuditSink sink, AuditProperties properties, AuditChain chain,
      ConnectionFactory connections, InstanceSigningKey signingKey) {
    AuditPipeline.Builder builder = AuditPipeline.builder(sink, chain.id(), properties.spillDir())
        .batchSize(properties.batchSize())
        .batchInterval(properties.batchInterval())
        .probeInterval(Duration.ofMillis(500), properties.maxProbeInterval());
    if (properties.sink() != AuditProperties.SinkKind.NONE) {
      CheckpointStore store = new PostgresCheckpointStore(connections);
      if (properties.checkpointExport() != null) {
        store = new ExportingCheckpointStore(store, properties.checkpointExport());
      }
      builder.checkpoints(new CheckpointSigner(signingKey.privateJwk()), store, properties.checkpointEvery(),
          properties.checkpointInterval());
    }
    AuditPipeline pipeline = builder.build();
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
      ObjectProvider<LineageAggregator> lineage, AuditProperties properties, MeterRegistry registry) {
    return new AuditRecorder(pipeline, snapshots, lineage.getIfAvailable(),
        properties.sink() != AuditProperties.SinkKind.NONE, new RequestMetrics(registry));
  }

  @Bean
  BrokerEventListener brokerAuditListener(AuditPipeline pipeline, SnapshotHolder snapshots) {
    return new BrokerAuditListener(pipeline, snapshots);
  }

  /** Audit off, to measure its cost: fail closed unless someone deliberately runs a benchmark. */
  static AuditSink benchmarkOnly(Environment environment) {
    if (!environment.acceptsProfiles(Profiles.of(BENCH_PROFILE))) {
      throw new IllegalStateException("portcullis.audit.sink=none turns the audit off and exists only for benchmarks;"
          + " it is refused unless the '" + BENCH_PROFILE + "' profile is active");
    }
    return DISCARD;
  }

  private static final String BENCH_PROFILE = "bench";

  /** Only admin and broker events reach it with the audit off; request events are not even built. */
  private static final AuditSink DISCARD = new AuditSink() {
    @Override
    public Mono<Void> write(List<AuditEvent> batch) {
      return Mono.empty();
    }

    @Override
    public String name() {
      return "none";
    }
  };

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

package io.portcullis.gateway.audit;

import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditSchema;
import io.portcullis.audit.PostgresAuditSink;
import io.portcullis.broker.BrokerEventListener;
import io.portcullis.gateway.config.SnapshotHolder;
import io.r2dbc.spi.ConnectionFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The audit stage's pipeline: PostgreSQL append-only table by default, spill file when it is down. */
@Configuration(proxyBeanMethods = false)
class AuditWiring {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean(destroyMethod = "close")
  AuditPipeline auditPipeline(ConnectionFactory connections, AuditProperties properties,
      @Value("${server.port:8080}") int port) {
    AuditSchema.apply(connections).block(STARTUP_TIMEOUT);
    String chainId = properties.chainId().isBlank() ? hostName() + ":" + port : properties.chainId();
    AuditPipeline pipeline = AuditPipeline.builder(new PostgresAuditSink(connections), chainId, properties.spillDir())
        .batchSize(properties.batchSize())
        .build();
    pipeline.start().block(STARTUP_TIMEOUT);
    return pipeline;
  }

  @Bean
  AuditRecorder auditRecorder(AuditPipeline pipeline, SnapshotHolder snapshots) {
    return new AuditRecorder(pipeline, snapshots);
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
}

package io.portcullis.gateway.audit;

import io.portcullis.audit.lineage.FileLineageTransport;
import io.portcullis.audit.lineage.HttpLineageTransport;
import io.portcullis.audit.lineage.KafkaLineageTransport;
import io.portcullis.audit.lineage.LineageAggregator;
import io.portcullis.audit.lineage.LineageEmitter;
import io.portcullis.audit.lineage.LineageTransport;
import java.time.Clock;
import java.time.Duration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Lineage from the audit ({@code portcullis.lineage.enabled=true}): the recorder feeds the aggregator. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnBooleanProperty("portcullis.lineage.enabled")
class LineageWiring {

  /** Late requests of a minute (those finishing just after it) still count in it. */
  private static final Duration GRACE = Duration.ofSeconds(5);

  @Bean
  LineageAggregator lineageAggregator(LineageProperties properties) {
    return new LineageAggregator(properties.producer(), properties.jobNamespace(), properties.datasetNamespace(),
        GRACE);
  }

  @Bean(destroyMethod = "close")
  LineageEmitter lineageEmitter(LineageAggregator aggregator, LineageProperties properties) {
    LineageTransport transport = switch (properties.transport()) {
      case HTTP -> new HttpLineageTransport(properties.http().url(), properties.http().apiKey(),
          properties.http().timeout());
      case KAFKA -> new KafkaLineageTransport(properties.kafka().bootstrapServers(), properties.kafka().topic());
      case FILE -> new FileLineageTransport(properties.file().path());
    };
    LineageEmitter emitter = new LineageEmitter(aggregator, transport, properties.flushInterval(), Clock.systemUTC());
    emitter.start();
    return emitter;
  }
}

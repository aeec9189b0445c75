package io.portcullis.gateway.audit;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * OpenLineage run events derived from the audit: per app (the job) and minute, the datasets it read (inputs) and
 * wrote (outputs) with their counts. Off by default.
 *
 * @param enabled          emit lineage at all
 * @param transport        {@code http} (Marquez-compatible {@code POST <url>/api/v1/lineage}), {@code kafka} or
 *                         {@code file}
 * @param jobNamespace     namespace of the jobs (apps)
 * @param datasetNamespace namespace of the datasets
 * @param producer         the events' {@code producer} URI
 * @param flushInterval    how often closed minutes are sent
 * @param http             the {@code http} transport
 * @param kafka            the {@code kafka} transport
 * @param file             the {@code file} transport
 */
@ConfigurationProperties("portcullis.lineage")
public record LineageProperties(
    @DefaultValue("false") boolean enabled,
    @DefaultValue("http") TransportKind transport,
    @DefaultValue("portcullis") String jobNamespace,
    @DefaultValue("portcullis") String datasetNamespace,
    @DefaultValue("urn:portcullis:gateway") URI producer,
    @DefaultValue("15s") Duration flushInterval,
    @DefaultValue Http http,
    @DefaultValue Kafka kafka,
    @DefaultValue File file) {

  public enum TransportKind { HTTP, KAFKA, FILE }

  /**
   * @param url     the lineage server, e.g. Marquez's API base
   * @param apiKey  bearer token, empty for none
   * @param timeout per request
   */
  public record Http(@DefaultValue("http://localhost:5000") URI url, @DefaultValue("") String apiKey,
      @DefaultValue("10s") Duration timeout) {
  }

  public record Kafka(@DefaultValue("localhost:9092") String bootstrapServers,
      @DefaultValue("openlineage.events") String topic) {
  }

  public record File(@DefaultValue(".portcullis/lineage/openlineage.jsonl") Path path) {
  }
}

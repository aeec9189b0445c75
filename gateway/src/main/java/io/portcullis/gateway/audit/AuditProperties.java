package io.portcullis.gateway.audit;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * @param chainId          this instance's hash chain, stable across its restarts (a pod name); empty: host name + port
 * @param spillDir         local persistent directory for the spill file used while the sink is down
 * @param batchSize        events per sink write
 * @param batchInterval    how long the first event of a batch waits for more before the batch goes to the sink; a
 *                         request's response waits only for the local journal, never for this, but the journal is
 *                         fsync'd once per batch, so this also bounds what a power loss (not a crash) can take. At a
 *                         moderate rate a longer interval means larger batches and less PostgreSQL CPU per event
 * @param sink             where events go: {@code postgres} (default, the gateway's database), {@code kafka} or
 *                         {@code file}; {@code none} (no request events at all) exists only to measure the audit's cost
 *                         and is refused unless the {@code bench} profile is active
 * @param maxProbeInterval longest wait between attempts to reach a sink that is down (or to leave the state where
 *                         neither the sink nor the spill file takes events, in which tier 2 fails closed)
 * @param checkpointEvery    a signed checkpoint (chain head, count, time; a JWS with the gateway's instance key) after
 *                         this many events in the sink, stored in {@code portcullis.audit_checkpoints} whatever the sink
 * @param checkpointInterval …or after this long, whichever comes first (only when events arrived); one more at shutdown
 * @param checkpointExport   optional JSON-lines file every checkpoint is also appended to (fsync'd), for an external
 *                         store (a log shipper, WORM storage) that a database superuser cannot rewrite; unset = none
 * @param kafka            the {@code kafka} sink
 * @param file             the {@code file} sink
 */
@ConfigurationProperties("portcullis.audit")
public record AuditProperties(
    @DefaultValue("") String chainId,
    @DefaultValue(".portcullis/audit-spill") Path spillDir,
    @DefaultValue("256") int batchSize,
    @DefaultValue("100ms") Duration batchInterval,
    @DefaultValue("postgres") SinkKind sink,
    @DefaultValue("30s") Duration maxProbeInterval,
    @DefaultValue("1000") int checkpointEvery,
    @DefaultValue("60s") Duration checkpointInterval,
    @Nullable Path checkpointExport,
    @DefaultValue Kafka kafka,
    @DefaultValue File file) {

  public AuditProperties {
    if (batchSize < 1 || batchSize > 10_000) {
      throw new IllegalArgumentException("portcullis.audit.batch-size: " + batchSize + " (expected: 1..10000)");
    }
    if (batchInterval.compareTo(Duration.ofMillis(1)) < 0 || batchInterval.compareTo(Duration.ofSeconds(10)) > 0) {
      throw new IllegalArgumentException(
          "portcullis.audit.batch-interval: " + batchInterval + " (expected: 1ms..10s)");
    }
    if (checkpointEvery < 1) {
      throw new IllegalArgumentException("portcullis.audit.checkpoint-every: " + checkpointEvery + " (expected: > 0)");
    }
    if (checkpointInterval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException(
          "portcullis.audit.checkpoint-interval: " + checkpointInterval + " (expected: >= 1s)");
    }
    if (maxProbeInterval.compareTo(Duration.ofMillis(500)) < 0) {
      throw new IllegalArgumentException(
          "portcullis.audit.max-probe-interval: " + maxProbeInterval + " (expected: >= 500ms)");
    }
  }

  public enum SinkKind { POSTGRES, KAFKA, FILE, NONE }

  /**
   * @param bootstrapServers the Kafka cluster ({@code host:port,…})
   * @param topic            the audit topic; events keyed by app id
   */
  public record Kafka(@DefaultValue("localhost:9092") String bootstrapServers,
      @DefaultValue("portcullis.audit") String topic) {
  }

  /**
   * @param directory where {@code audit-<chain>.jsonl} and its rotated files go
   * @param maxBytes  size at which the current file is rotated
   */
  public record File(@DefaultValue(".portcullis/audit") Path directory, @DefaultValue("256MB") DataSize maxBytes) {

    public File {
      if (maxBytes.toBytes() < 1024) {
        throw new IllegalArgumentException("portcullis.audit.file.max-bytes: " + maxBytes + " (expected: >= 1KB)");
      }
    }
  }
}

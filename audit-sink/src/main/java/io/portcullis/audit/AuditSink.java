package io.portcullis.audit;

import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Where sealed audit events go. {@link #write} completes when the whole batch is durable in the sink and errors
 * otherwise; it must accept a batch it has already seen (replays after a timeout) — PostgreSQL skips known event ids,
 * Kafka consumers and file readers de-duplicate by {@code event_id}. It must not block the subscribing thread.
 */
public interface AuditSink {

  Mono<Void> write(List<AuditEvent> batch);

  /**
   * As {@link #write(List)}, with each event's canonical JSON ({@link AuditJson#toJsonBytes}) already made by the
   * pipeline, which a sink that ships JSON can send as it is instead of serialising the events again.
   */
  default Mono<Void> write(List<AuditEvent> batch, List<byte[]> canonicalJson) {
    return write(batch);
  }

  /** For logs and metrics, e.g. {@code postgres}. */
  String name();
}

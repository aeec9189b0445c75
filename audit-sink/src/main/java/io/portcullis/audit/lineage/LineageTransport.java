package io.portcullis.audit.lineage;

import reactor.core.publisher.Mono;

/**
 * Where OpenLineage events go. {@link #send} completes once the event (its JSON) is accepted and must not block the
 * subscribing thread. Lineage is best-effort next to the audit (the audit events are the record): a failed send is
 * retried by the emitter a few times, then logged and dropped.
 */
public interface LineageTransport extends AutoCloseable {

  /**
   * @param job  {@code namespace/name} of the event's job: the Kafka key, so one app's runs stay in order
   * @param json one run event
   */
  Mono<Void> send(String job, String json);

  /** For logs, e.g. {@code http:http://marquez:5000}. */
  String name();

  @Override
  default void close() {}
}

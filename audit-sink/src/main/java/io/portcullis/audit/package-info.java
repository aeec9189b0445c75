/**
 * Audit events (DESIGN.md §7) from emission to proof.
 *
 * <p>At start the gateway runs {@link io.portcullis.audit.AuditSchema#apply}, builds one
 * {@link io.portcullis.audit.AuditPipeline} per instance over a sink ({@link io.portcullis.audit.PostgresAuditSink},
 * {@link io.portcullis.audit.KafkaAuditSink} or {@link io.portcullis.audit.JsonLinesAuditSink}) and calls
 * {@code start()}; per request it calls {@code emit(event)} (or {@code durable(event)} for tier 2); at shutdown
 * {@code close()}. {@link io.portcullis.audit.AuditQuery} and {@link io.portcullis.audit.AuditCsv} serve the admin
 * API; {@link io.portcullis.audit.AuditVerifier} (and the {@code cli.AuditVerifyCli}) prove a chain intact.
 * {@link io.portcullis.audit.lineage.LineageAggregator} folds the same request events into OpenLineage run events
 * per app and minute, sent by a {@link io.portcullis.audit.lineage.LineageEmitter}.
 */
package io.portcullis.audit;

package io.portcullis.audit;

import io.r2dbc.spi.Row;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** How an {@link AuditEvent} maps to a row of {@code portcullis.audit_events}, both ways. */
final class EventRows {

  /** Column order of every INSERT and SELECT this module issues. */
  static final List<String> COLUMNS = List.of("event_id", "\"timestamp\"", "event_type", "chain_id", "seq",
      "request_id", "actor_id", "actor_role", "app_id", "tier", "action", "resource_type", "resource_id", "token_id",
      "policy_ids", "policy_version", "outcome", "status", "error_code", "\"rows\"", "bytes", "masked_columns",
      "row_filter", "query_fingerprint", "cost_units", "cost_center", "latency_ms", "client_ip", "prev_hash", "hash");
  static final int WIDTH = COLUMNS.size();
  static final String COLUMN_LIST = String.join(", ", COLUMNS);
  static final String SELECT = "SELECT " + COLUMN_LIST + " FROM portcullis.audit_events";
  /** The columns with their types, in {@link #COLUMNS} order: the record the canonical JSON of an event is read as. */
  static final String RECORD_TYPES = String.join(", ", List.of("event_id uuid", "\"timestamp\" timestamptz",
      "event_type text", "chain_id text", "seq bigint", "request_id text", "actor_id text", "actor_role text",
      "app_id text", "tier smallint", "action text", "resource_type text", "resource_id text", "token_id text",
      "policy_ids text[]", "policy_version bigint", "outcome text", "status integer", "error_code text",
      "\"rows\" bigint", "bytes bigint", "masked_columns text[]", "row_filter text", "query_fingerprint text",
      "cost_units double precision", "cost_center text", "latency_ms double precision", "client_ip text",
      "prev_hash text", "hash text"));

  private EventRows() {}

  static AuditEvent map(Row r) {
    Short tier = r.get("tier", Short.class);
    String outcome = r.get("outcome", String.class);
    return new AuditEvent(
        r.get("event_id", UUID.class),
        r.get("timestamp", OffsetDateTime.class).toInstant(),
        EventType.fromJson(r.get("event_type", String.class)),
        r.get("request_id", String.class),
        r.get("actor_id", String.class),
        r.get("actor_role", String.class),
        r.get("app_id", String.class),
        tier == null ? null : tier.intValue(),
        r.get("action", String.class),
        r.get("resource_type", String.class),
        r.get("resource_id", String.class),
        r.get("token_id", String.class),
        list(r.get("policy_ids", String[].class)),
        r.get("policy_version", Long.class),
        outcome == null ? null : Outcome.fromJson(outcome),
        r.get("status", Integer.class),
        r.get("error_code", String.class),
        r.get("rows", Long.class),
        r.get("bytes", Long.class),
        list(r.get("masked_columns", String[].class)),
        r.get("row_filter", String.class),
        r.get("query_fingerprint", String.class),
        r.get("cost_units", Double.class),
        r.get("cost_center", String.class),
        r.get("latency_ms", Double.class),
        r.get("client_ip", String.class),
        r.get("chain_id", String.class),
        r.get("seq", Long.class),
        r.get("prev_hash", String.class),
        r.get("hash", String.class));
  }

  private static List<String> list(String[] values) {
    return values == null ? null : Arrays.asList(values);
  }
}

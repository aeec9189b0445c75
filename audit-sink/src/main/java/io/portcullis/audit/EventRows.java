package io.portcullis.audit;

import io.r2dbc.spi.Row;
import io.r2dbc.spi.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
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

  private EventRows() {}

  /** Binds the event to parameters {@code first .. first + WIDTH - 1} (0-based indexes). */
  static void bind(Statement s, int first, AuditEvent e) {
    int i = first;
    s.bind(i++, e.eventId());
    s.bind(i++, e.timestamp().atOffset(ZoneOffset.UTC));
    s.bind(i++, e.eventType().json());
    s.bind(i++, e.chainId());
    s.bind(i++, e.seq());
    i = bind(s, i, e.requestId(), String.class);
    i = bind(s, i, e.actorId(), String.class);
    i = bind(s, i, e.actorRole(), String.class);
    i = bind(s, i, e.appId(), String.class);
    i = bind(s, i, e.tier() == null ? null : e.tier().shortValue(), Short.class);
    i = bind(s, i, e.action(), String.class);
    i = bind(s, i, e.resourceType(), String.class);
    i = bind(s, i, e.resourceId(), String.class);
    i = bind(s, i, e.tokenId(), String.class);
    i = bind(s, i, e.policyIds() == null ? null : e.policyIds().toArray(String[]::new), String[].class);
    i = bind(s, i, e.policyVersion(), Long.class);
    i = bind(s, i, e.outcome() == null ? null : e.outcome().json(), String.class);
    i = bind(s, i, e.status(), Integer.class);
    i = bind(s, i, e.errorCode(), String.class);
    i = bind(s, i, e.rows(), Long.class);
    i = bind(s, i, e.bytes(), Long.class);
    i = bind(s, i, e.maskedColumns() == null ? null : e.maskedColumns().toArray(String[]::new), String[].class);
    i = bind(s, i, e.rowFilter(), String.class);
    i = bind(s, i, e.queryFingerprint(), String.class);
    i = bind(s, i, e.costUnits(), Double.class);
    i = bind(s, i, e.costCenter(), String.class);
    i = bind(s, i, e.latencyMs(), Double.class);
    i = bind(s, i, e.clientIp(), String.class);
    s.bind(i++, e.prevHash());
    s.bind(i, e.hash());
  }

  private static int bind(Statement s, int index, Object value, Class<?> type) {
    if (value == null) {
      s.bindNull(index, type);
    } else {
      s.bind(index, value);
    }
    return index + 1;
  }

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

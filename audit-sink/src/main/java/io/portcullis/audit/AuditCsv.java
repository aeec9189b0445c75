package io.portcullis.audit;

import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;

/**
 * Audit events as CSV (RFC 4180: comma-separated, CRLF, fields quoted when needed) for the admin API's export.
 * List fields are joined with {@code ;}. Text cells starting with {@code = + - @} or a tab are prefixed with
 * {@code '} so a spreadsheet does not run them as formulas (OWASP CSV injection): audit data is attacker-influenced
 * (actor ids, resource ids, client IPs from headers).
 */
public final class AuditCsv {

  public static final String HEADER = "event_id,timestamp,event_type,chain_id,seq,request_id,actor_id,actor_role,"
      + "app_id,tier,action,resource_type,resource_id,token_id,policy_ids,policy_version,outcome,status,error_code,"
      + "rows,bytes,masked_columns,row_filter,query_fingerprint,cost_units,cost_center,latency_ms,client_ip,"
      + "prev_hash,hash\r\n";

  private AuditCsv() {}

  /** The header line, then one line per event; streams (nothing buffered). */
  public static Flux<String> write(Flux<AuditEvent> events) {
    Objects.requireNonNull(events, "events");
    return Flux.concat(Flux.just(HEADER), events.map(AuditCsv::row));
  }

  /** One CSV line, CRLF-terminated. */
  public static String row(AuditEvent e) {
    StringBuilder b = new StringBuilder(512);
    text(b, e.eventId().toString());
    text(b.append(','), e.timestamp().toString());
    text(b.append(','), e.eventType().json());
    text(b.append(','), e.chainId());
    number(b, e.seq());
    text(b.append(','), e.requestId());
    text(b.append(','), e.actorId());
    text(b.append(','), e.actorRole());
    text(b.append(','), e.appId());
    number(b, e.tier());
    text(b.append(','), e.action());
    text(b.append(','), e.resourceType());
    text(b.append(','), e.resourceId());
    text(b.append(','), e.tokenId());
    text(b.append(','), join(e.policyIds()));
    number(b, e.policyVersion());
    text(b.append(','), e.outcome() == null ? null : e.outcome().json());
    number(b, e.status());
    text(b.append(','), e.errorCode());
    number(b, e.rows());
    number(b, e.bytes());
    text(b.append(','), join(e.maskedColumns()));
    text(b.append(','), e.rowFilter());
    text(b.append(','), e.queryFingerprint());
    number(b, e.costUnits());
    text(b.append(','), e.costCenter());
    number(b, e.latencyMs());
    text(b.append(','), e.clientIp());
    text(b.append(','), e.prevHash());
    text(b.append(','), e.hash());
    return b.append("\r\n").toString();
  }

  private static String join(List<String> values) {
    return values == null ? null : String.join(";", values);
  }

  private static void number(StringBuilder b, Number n) {
    b.append(',');
    if (n != null) {
      b.append(n);
    }
  }

  private static void text(StringBuilder b, String v) {
    if (v == null || v.isEmpty()) {
      return;
    }
    char first = v.charAt(0);
    boolean formula = first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r';
    boolean quote = formula || v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0
        || v.indexOf('\r') >= 0;
    if (!quote) {
      b.append(v);
      return;
    }
    b.append('"');
    if (formula) {
      b.append('\'');
    }
    b.append(v.replace("\"", "\"\"")).append('"');
  }
}

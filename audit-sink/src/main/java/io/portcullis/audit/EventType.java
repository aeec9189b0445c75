package io.portcullis.audit;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What an audit event records: a data request, or a security-relevant change around it. */
public enum EventType {
  REQUEST, TOKEN_ISSUED, TOKEN_REVOKED, AUTH_FAILED, TOKEN_REFUSED, APP_PAUSED, APP_RESUMED, ADMIN_CHANGE, ANOMALY, BUDGET_WARNING;

  private final String json = name().toLowerCase(Locale.ROOT);

  /** The snake_case JSON and database value, e.g. {@code token_issued}. */
  @JsonValue
  public String json() {
    return json;
  }

  public static EventType fromJson(String value) {
    for (EventType t : values()) {
      if (t.json.equals(value)) {
        return t;
      }
    }
    throw new IllegalArgumentException("event_type: " + value + " (expected: one of request, token_issued, token_revoked, "
        + "auth_failed, token_refused, app_paused, app_resumed, admin_change, anomaly, budget_warning)");
  }
}

package io.portcullis.audit;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** How a request ended, as audited (DESIGN.md §7; {@code cancelled} when the client went away mid-response). */
public enum Outcome {
  ALLOWED, DENIED, THROTTLED, ERROR, CANCELLED;

  private final String json = name().toLowerCase(Locale.ROOT);

  /** The lower-case JSON and database value. */
  @JsonValue
  public String json() {
    return json;
  }

  /** Parses the lower-case form stored in the database. */
  public static Outcome fromJson(String value) {
    for (Outcome o : values()) {
      if (o.json.equals(value)) {
        return o;
      }
    }
    throw new IllegalArgumentException("outcome: " + value + " (expected: one of allowed, denied, throttled, error, cancelled)");
  }
}

package io.portcullis.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Objects;
import java.util.UUID;

/** A keyset position in the audit log: the (timestamp, event_id) of the last event of a page. */
public record AuditCursor(Instant timestamp, UUID eventId) {

  public AuditCursor {
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(eventId, "eventId");
  }

  public static AuditCursor after(AuditEvent last) {
    return new AuditCursor(last.timestamp(), last.eventId());
  }

  /** An opaque URL-safe token for a {@code cursor} query parameter. */
  public String encode() {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString((timestamp + "|" + eventId).getBytes(StandardCharsets.UTF_8));
  }

  /** @throws IllegalArgumentException when the token was not made by {@link #encode()} */
  public static AuditCursor decode(String token) {
    Objects.requireNonNull(token, "token");
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int bar = text.indexOf('|');
      if (bar < 0) {
        throw new IllegalArgumentException("cursor: " + token + " (expected: a cursor returned by a previous page)");
      }
      return new AuditCursor(Instant.parse(text.substring(0, bar)), UUID.fromString(text.substring(bar + 1)));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("cursor: " + token + " (expected: a cursor returned by a previous page)", e);
    }
  }
}

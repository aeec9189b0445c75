package io.portcullis.audit;

import java.util.Objects;
import java.util.UUID;

/** The first thing {@link AuditVerifier} found wrong in a chain. {@code eventId} is null when the event is gone. */
public record Violation(Kind kind, long seq, UUID eventId, String detail) {

  public enum Kind {
    /** An event's content no longer matches its hash, or its hash was recomputed and its successor no longer links. */
    ALTERED,
    /** An event is missing (a gap in seq, a broken link, or a checkpoint beyond the last stored event). */
    REMOVED,
    /** An event that the chain does not contain: a second event with an existing seq, or one spliced into the links. */
    INSERTED,
    /** Events are stored out of chain order (an event comes before its predecessor). */
    REORDERED,
    /** A consistently re-hashed stretch of chain: the signed head at a checkpoint differs from the stored event. */
    CHECKPOINT_MISMATCH,
    /** A checkpoint whose signature does not verify, whose key is unknown, or whose stored copy differs from the JWS. */
    CHECKPOINT_INVALID
  }

  public Violation {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(detail, "detail");
  }

  @Override
  public String toString() {
    return kind + " at seq " + seq + (eventId == null ? "" : " (event " + eventId + ")") + ": " + detail;
  }
}

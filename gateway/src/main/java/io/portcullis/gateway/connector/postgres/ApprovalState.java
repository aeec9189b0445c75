package io.portcullis.gateway.connector.postgres;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** The approval-queue state machine (DESIGN.md §2): {@code requested → reviewing → approved | rejected}. */
enum ApprovalState {
  REQUESTED, REVIEWING, APPROVED, REJECTED;

  static final String CHOICES = "requested, reviewing, approved, rejected";

  String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  static @Nullable ApprovalState parse(@Nullable String text) {
    if (text == null) {
      return null;
    }
    for (ApprovalState s : values()) {
      if (s.wire().equals(text)) {
        return s;
      }
    }
    return null;
  }

  boolean canMoveTo(ApprovalState next) {
    return switch (this) {
      case REQUESTED -> next == REVIEWING;
      case REVIEWING -> next == APPROVED || next == REJECTED;
      case APPROVED, REJECTED -> false;
    };
  }
}

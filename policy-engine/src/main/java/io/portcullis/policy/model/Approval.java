package io.portcullis.policy.model;

import java.time.Instant;
import java.util.Objects;

/** Who approved a grant, when, and why (required for datasets tagged {@code regulated}). */
public record Approval(String by, Instant at, String reason) {
  public Approval {
    Objects.requireNonNull(by, "by");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(reason, "reason");
  }
}

package io.portcullis.gateway.admin;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A four-eyes change waiting for (or decided by) a second admin.
 *
 * @param status         {@code pending}, {@code approved}, {@code rejected} or {@code superseded} (the config moved on
 *                       before approval; the author resubmits)
 * @param approval       the approver's signed record (compact JWS), once approved
 * @param appliedVersion the config version the approval produced
 */
record ChangeRequest(long id, long baseVersion, String yaml, String diffJson, String author, String reason,
    String status, Instant createdAt, @Nullable String decidedBy, @Nullable Instant decidedAt,
    @Nullable String decisionReason, @Nullable String approval, @Nullable Long appliedVersion) {

  static final String PENDING = "pending";
  static final String APPROVED = "approved";
  static final String REJECTED = "rejected";
  static final String SUPERSEDED = "superseded";
}

package io.portcullis.policy;

import java.util.List;

/** Names of the built-in policy blocks (switchable in {@code settings.disabled_builtins}). */
final class Builtins {
  static final String PII_NEEDS_CONSENT = "pii-needs-consent";
  static final String REGULATED_NEEDS_APPROVAL = "regulated-needs-approval";
  static final String TIER0_SANDBOX_ONLY = "tier0-sandbox-only";
  static final String OWNER_SCOPED_READ = "owner-scoped-read";
  static final String ADMIN_READ = "admin-read";
  static final String RESIDENCY = "residency";

  static final List<String> ALL = List.of(PII_NEEDS_CONSENT, REGULATED_NEEDS_APPROVAL, TIER0_SANDBOX_ONLY,
      OWNER_SCOPED_READ, ADMIN_READ, RESIDENCY);

  /** The scope that lifts owner scoping on reads ({@code admin-read}). */
  static final String ADMIN_READ_SCOPE = "admin:read";

  private Builtins() {}
}

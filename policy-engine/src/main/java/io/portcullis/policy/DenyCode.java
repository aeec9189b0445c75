package io.portcullis.policy;

import java.util.Locale;

/** Why a request was denied; {@link #code()} is the DESIGN.md §6 problem code. */
public enum DenyCode {
  SCOPE_MISSING(403),
  POLICY_DENIED(403),
  CONSENT_MISSING(403),
  APPROVAL_MISSING(403),
  UNKNOWN_DATASET(404),
  APP_PAUSED(403),
  METHOD_NOT_ALLOWED(405);

  private final int httpStatus;
  private final String code;

  DenyCode(int httpStatus) {
    this.httpStatus = httpStatus;
    this.code = name().toLowerCase(Locale.ROOT);
  }

  public String code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }
}

package io.portcullis.broker;

/** Why the gateway refuses an access token; {@link #code()} is the DESIGN.md §6 problem code. */
public enum TokenError {
  INVALID_TOKEN("invalid_token"),
  TOKEN_EXPIRED("token_expired"),
  TOKEN_REVOKED("token_revoked"),
  APP_PAUSED("app_paused");

  private final String code;

  TokenError(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}

package io.portcullis.broker;

/**
 * An RFC 6749 §5.2 error response. Thrown (or signalled) on the expected failure paths, so it carries no stack trace:
 * an attacker hammering the endpoint must not make us fill thousands of them.
 */
final class OAuthException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;

  OAuthException(int status, String error, String description) {
    super(description, null, false, false);
    this.status = status;
    this.error = error;
  }

  static OAuthException invalidRequest(String description) {
    return new OAuthException(400, "invalid_request", description);
  }

  static OAuthException invalidClient(String description) {
    return new OAuthException(401, "invalid_client", description);
  }

  static OAuthException unauthorizedClient(String description) {
    return new OAuthException(400, "unauthorized_client", description);
  }

  static OAuthException invalidGrant(String description) {
    return new OAuthException(400, "invalid_grant", description);
  }

  static OAuthException invalidScope(String description) {
    return new OAuthException(400, "invalid_scope", description);
  }

  static OAuthException unsupportedGrantType(String description) {
    return new OAuthException(400, "unsupported_grant_type", description);
  }

  static OAuthException slowDown(String description) {
    return new OAuthException(429, "slow_down", description);
  }

  int status() {
    return status;
  }

  String error() {
    return error;
  }

  String description() {
    return getMessage();
  }
}

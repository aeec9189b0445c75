package io.portcullis.broker;

import org.jspecify.annotations.Nullable;

/**
 * An RFC 6749 §5.2 error response. Thrown (or signalled) on the expected failure paths, so it carries no stack trace:
 * an attacker hammering the endpoint must not make us fill thousands of them.
 *
 * <p>Besides the response it carries what the audit event of the refusal needs ({@link BrokerRoutes} emits exactly
 * one per refused request): the client it concerns, the grant being attempted and a short machine-friendly reason.
 */
final class OAuthException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;
  private final @Nullable String clientId;
  private final @Nullable String grantType;
  private final @Nullable String reason;

  OAuthException(int status, String error, String description) {
    this(status, error, description, null, null, null);
  }

  private OAuthException(int status, String error, String description, @Nullable String clientId,
      @Nullable String grantType, @Nullable String reason) {
    super(description, null, false, false);
    this.status = status;
    this.error = error;
    this.clientId = clientId;
    this.grantType = grantType;
    this.reason = reason;
  }

  /** The same refusal, naming the client it concerns (the authenticated one, or the id a failed caller claimed). */
  OAuthException forClient(@Nullable String clientId) {
    return new OAuthException(status, error, getMessage(), clientId, grantType, reason);
  }

  /** The same refusal, naming the grant type the request attempted. */
  OAuthException during(String grantType) {
    return new OAuthException(status, error, getMessage(), clientId, grantType, reason);
  }

  /** The same refusal with a short reason for the audit (e.g. {@code unknown_client}); never a credential. */
  OAuthException because(String reason) {
    return new OAuthException(status, error, getMessage(), clientId, grantType, reason);
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

  @Nullable String clientId() {
    return clientId;
  }

  @Nullable String grantType() {
    return grantType;
  }

  @Nullable String reason() {
    return reason;
  }
}

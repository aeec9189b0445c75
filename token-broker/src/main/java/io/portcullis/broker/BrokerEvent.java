package io.portcullis.broker;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Something the broker did that the audit must record. Never holds a secret, an assertion or a token: tokens are named
 * by {@code jti}, failed credentials by nothing at all.
 *
 * @param type          what happened
 * @param time          when
 * @param clientId      the app (for a failed authentication: the client id the caller claimed, possibly unknown)
 * @param subject       {@code sub} of an issued token (the end user for token exchange), else null
 * @param jti           the token id for issued/revoked tokens, else null
 * @param scopes        granted scopes of an issued token, else empty
 * @param grantType     {@code client_credentials} / {@code token-exchange} for issued tokens; for refusals the grant
 *                      attempted ({@code revoke} on the revocation endpoint), null when the request named none
 * @param remoteAddress caller's address for endpoint events, else null
 * @param reason        a short machine-friendly reason (failed auth: the method that failed, {@code unknown_client},
 *                      …; pause: the admin's reason), else null
 * @param error         the RFC 6749 error sent for a refusal ({@code invalid_client}, {@code invalid_scope},
 *                      {@code invalid_grant}, {@code slow_down}, …), else null
 * @param status        the HTTP status sent for a refusal, else 0
 */
public record BrokerEvent(
    Type type,
    Instant time,
    @Nullable String clientId,
    @Nullable String subject,
    @Nullable String jti,
    Set<String> scopes,
    @Nullable String grantType,
    @Nullable String remoteAddress,
    @Nullable String reason,
    @Nullable String error,
    int status) {

  /**
   * {@code CLIENT_AUTH_FAILED}: the credentials were wrong or the client unknown; {@code TOKEN_REFUSED}: any other
   * refused token or revocation request (a scope never granted, an untrusted subject token, a paused client, too many
   * failed attempts, a malformed request).
   */
  public enum Type { TOKEN_ISSUED, TOKEN_REVOKED, CLIENT_AUTH_FAILED, TOKEN_REFUSED, APP_PAUSED, APP_RESUMED }

  /** Claimed client ids are attacker-chosen: the audit keeps enough to recognise one, not a 16 KiB payload. */
  static final int MAX_CLIENT_ID_CHARS = 128;

  public BrokerEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
    scopes = Set.copyOf(scopes);
  }

  static BrokerEvent issued(IssuedToken t, String grantType, @Nullable String remoteAddress) {
    return new BrokerEvent(Type.TOKEN_ISSUED, t.issuedAt(), t.clientId(), t.subject(), t.jti(), t.scopes(), grantType,
        remoteAddress, null, null, 0);
  }

  static BrokerEvent revoked(Instant time, String clientId, String jti) {
    return new BrokerEvent(Type.TOKEN_REVOKED, time, clientId, null, jti, Set.of(), null, null, null, null, 0);
  }

  /** A refused request, from the error it was answered with: a failed client authentication or another refusal. */
  static BrokerEvent refused(Instant time, OAuthException e, @Nullable String remoteAddress) {
    Type type = "invalid_client".equals(e.error()) ? Type.CLIENT_AUTH_FAILED : Type.TOKEN_REFUSED;
    return new BrokerEvent(type, time, bounded(e.clientId()), null, null, Set.of(), e.grantType(),
        remoteAddress, e.reason(), e.error(), e.status());
  }

  static BrokerEvent appPaused(Instant time, String clientId, @Nullable String reason) {
    return new BrokerEvent(Type.APP_PAUSED, time, clientId, null, null, Set.of(), null, null, reason, null, 0);
  }

  static BrokerEvent appResumed(Instant time, String clientId) {
    return new BrokerEvent(Type.APP_RESUMED, time, clientId, null, null, Set.of(), null, null, null, null, 0);
  }

  private static @Nullable String bounded(@Nullable String clientId) {
    return clientId == null || clientId.length() <= MAX_CLIENT_ID_CHARS ? clientId
        : clientId.substring(0, MAX_CLIENT_ID_CHARS) + "…";
  }
}

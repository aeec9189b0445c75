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
 * @param grantType     {@code client_credentials} / {@code token-exchange} for issued tokens, else null
 * @param remoteAddress caller's address for endpoint events, else null
 * @param reason        a short machine-friendly reason (failed auth: {@code bad_secret}, {@code unknown_client}, …;
 *                      pause: the admin's reason), else null
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
    @Nullable String reason) {

  public enum Type { TOKEN_ISSUED, TOKEN_REVOKED, CLIENT_AUTH_FAILED, APP_PAUSED, APP_RESUMED }

  public BrokerEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
    scopes = Set.copyOf(scopes);
  }

  static BrokerEvent issued(IssuedToken t, String grantType, @Nullable String remoteAddress) {
    return new BrokerEvent(Type.TOKEN_ISSUED, t.issuedAt(), t.clientId(), t.subject(), t.jti(), t.scopes(), grantType,
        remoteAddress, null);
  }

  static BrokerEvent revoked(Instant time, String clientId, String jti) {
    return new BrokerEvent(Type.TOKEN_REVOKED, time, clientId, null, jti, Set.of(), null, null, null);
  }

  static BrokerEvent authFailed(Instant time, @Nullable String clientId, @Nullable String remoteAddress,
      String reason) {
    return new BrokerEvent(Type.CLIENT_AUTH_FAILED, time, clientId, null, null, Set.of(), null, remoteAddress, reason);
  }

  static BrokerEvent appPaused(Instant time, String clientId, @Nullable String reason) {
    return new BrokerEvent(Type.APP_PAUSED, time, clientId, null, null, Set.of(), null, null, reason);
  }

  static BrokerEvent appResumed(Instant time, String clientId) {
    return new BrokerEvent(Type.APP_RESUMED, time, clientId, null, null, Set.of(), null, null, null);
  }
}

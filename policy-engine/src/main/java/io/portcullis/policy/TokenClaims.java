package io.portcullis.policy;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The verified claims of an access token (DESIGN.md §5), as the policy engine sees them.
 *
 * <p>Produced once per token by the gateway's verifier and cached until {@code expiresAt}; the policy engine reads it
 * on every request, so it is immutable and its collections are unmodifiable.
 *
 * @param subject   {@code sub}: the end user for token exchange, the app itself for client credentials
 * @param clientId  {@code client_id}: the micro-app
 * @param scopes    {@code scope} split on spaces, e.g. {@code inventory.items:read}
 * @param tier      {@code tier} of the app when the token was issued
 * @param attrs     {@code attrs}: ABAC attributes (owner_id, team_id, region, …); values are String, Number, Boolean or
 *                  List of those
 * @param jti       {@code jti}
 * @param issuedAt  {@code iat}
 * @param expiresAt {@code exp}
 */
public record TokenClaims(
    String subject,
    String clientId,
    Set<String> scopes,
    int tier,
    Map<String, Object> attrs,
    String jti,
    Instant issuedAt,
    Instant expiresAt) {

  public TokenClaims {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(clientId, "clientId");
    scopes = Set.copyOf(scopes);
    attrs = Map.copyOf(attrs);
    Objects.requireNonNull(jti, "jti");
    Objects.requireNonNull(issuedAt, "issuedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }
}

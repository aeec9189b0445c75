package io.portcullis.broker;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A micro-app as the token endpoint sees it.
 *
 * @param clientId        the app id, {@code client_id} in tokens
 * @param tier            0 personal/sandbox, 1 team, 2 business-critical: caps the token lifetime
 * @param active          false when the app is paused or retired: no token is issued
 * @param secretHash      {@link SecretHasher} hash for client_secret_basic / client_secret_post, or null
 * @param jwks            JSON JWK Set of the app's public keys for private_key_jwt, or null
 * @param grantableScopes every scope the app's grants allow ({@code dataset:action})
 * @param attrs           the app's own ABAC attributes, the {@code attrs} claim of its client-credentials tokens
 */
public record RegisteredClient(
    String clientId,
    int tier,
    boolean active,
    @Nullable String secretHash,
    @Nullable String jwks,
    Set<String> grantableScopes,
    Map<String, Object> attrs) {

  public RegisteredClient {
    Objects.requireNonNull(clientId, "clientId");
    if (clientId.isEmpty()) {
      throw new IllegalArgumentException("clientId: empty (expected: non-empty)");
    }
    if (tier < 0 || tier > 2) {
      throw new IllegalArgumentException("tier: %s (expected: 0..2)".formatted(tier));
    }
    grantableScopes = Set.copyOf(grantableScopes);
    attrs = Map.copyOf(attrs);
  }

  /** A client without ABAC attributes of its own. */
  public RegisteredClient(String clientId, int tier, boolean active, @Nullable String secretHash, @Nullable String jwks,
      Set<String> grantableScopes) {
    this(clientId, tier, active, secretHash, jwks, grantableScopes, Map.of());
  }
}

package io.portcullis.policy.model;

import org.jspecify.annotations.Nullable;

/**
 * How an app authenticates to the token broker: a PBKDF2 secret hash ({@code SecretHasher} format), and/or its public
 * keys for {@code private_key_jwt} given inline ({@code jwks}, JSON) or by URI.
 */
public record ClientCredentials(@Nullable String secretHash, @Nullable String jwks, @Nullable String jwksUri) {
  public static final ClientCredentials NONE = new ClientCredentials(null, null, null);
}

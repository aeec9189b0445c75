package io.portcullis.broker;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * Where a verifier finds the public key a token's {@code kid} names: the broker's own {@link SigningKeys} in-process,
 * or a {@link RemoteJwks} fetched from the broker's JWKS URL. Never the token's own {@code jku}/{@code x5u}/{@code
 * jwk}/{@code x5c} headers.
 */
@FunctionalInterface
public interface VerificationKeys {

  /** The public key with this id, or empty when there is none (after at most one throttled refresh). */
  Mono<JWK> find(String kid);

  /** A fixed key set (inline JWKS in configuration, tests). */
  static VerificationKeys of(JWKSet keys) {
    JWKSet publicKeys = Objects.requireNonNull(keys, "keys").toPublicJWKSet();
    return kid -> Mono.justOrEmpty(publicKeys.getKeyByKeyId(kid));
  }
}

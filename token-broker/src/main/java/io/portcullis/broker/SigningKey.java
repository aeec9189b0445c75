package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.JWK;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One signing key pair.
 *
 * @param kid          key id, published in the JWKS and the token header
 * @param algorithm    the one algorithm this key signs with
 * @param privateJwk   the key pair (never published)
 * @param publicJwk    the public half, with {@code kid}, {@code alg} and {@code use=sig}
 * @param createdAt    when the key was generated (rotation is due at createdAt + rotation period)
 * @param retiredAt    when it stopped signing, null while it is the active key
 * @param publishUntil when it leaves the JWKS: retiredAt + the longest token lifetime (+ clock skew), null while active
 */
record SigningKey(
    String kid,
    SigningAlgorithm algorithm,
    JWK privateJwk,
    JWK publicJwk,
    Instant createdAt,
    @Nullable Instant retiredAt,
    @Nullable Instant publishUntil) {

  SigningKey {
    Objects.requireNonNull(kid, "kid");
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(privateJwk, "privateJwk");
    Objects.requireNonNull(publicJwk, "publicJwk");
    Objects.requireNonNull(createdAt, "createdAt");
    if (publicJwk.isPrivate()) {
      throw new IllegalArgumentException("publicJwk: contains private parameters (expected: public key only)");
    }
  }

  static SigningKey fromPrivate(JWK privateJwk, Instant createdAt, @Nullable Instant retiredAt,
      @Nullable Instant publishUntil) {
    SigningAlgorithm alg = SigningAlgorithm.of(privateJwk);
    if (alg == null || !privateJwk.isPrivate() || privateJwk.getKeyID() == null) {
      throw new IllegalArgumentException("privateJwk: %s (expected: a private RSA ≥ 2048, P-256 or Ed25519 key with kid)"
          .formatted(privateJwk.getKeyType()));
    }
    return new SigningKey(privateJwk.getKeyID(), alg, privateJwk, privateJwk.toPublicJWK(), createdAt, retiredAt,
        publishUntil);
  }

  static SigningKey generate(SigningAlgorithm algorithm, Instant now) {
    String kid = algorithm.name().toLowerCase(java.util.Locale.ROOT) + "-" + java.util.UUID.randomUUID();
    return fromPrivate(algorithm.generate(kid), now, null, null);
  }

  boolean active() {
    return retiredAt == null;
  }

  boolean publishedAt(Instant now) {
    return publishUntil == null || now.isBefore(publishUntil);
  }

  JWSSigner signer() {
    try {
      return SigningAlgorithm.signer(privateJwk);
    } catch (JOSEException e) {
      throw new IllegalStateException("unusable signing key " + kid, e);
    }
  }

  @Override
  public String toString() {
    // Never print the private key (records print every component by default).
    return "SigningKey[kid=" + kid + ", algorithm=" + algorithm + ", createdAt=" + createdAt + ", retiredAt=" + retiredAt
        + ", publishUntil=" + publishUntil + "]";
  }
}

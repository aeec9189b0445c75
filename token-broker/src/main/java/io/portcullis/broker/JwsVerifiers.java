package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Picks a signature verifier from a trusted key and the header's algorithm, refusing every pairing that is not an
 * exact match (RFC 8725 §3.1): the algorithm must be in the caller's allow-list, fit the key's type and curve, and
 * equal the key's own {@code alg} when the key declares one. There is no symmetric (HS*) and no {@code none} entry,
 * so a public key can never be used as an HMAC secret.
 */
final class JwsVerifiers {

  /** What we accept from others (client assertions, corporate IdP tokens). */
  static final Set<JWSAlgorithm> ASYMMETRIC = Set.of(
      JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
      JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
      JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
      JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

  /** What our own access tokens are signed with. */
  static final Set<JWSAlgorithm> ACCESS_TOKEN = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.EdDSA);

  private JwsVerifiers() {}

  static @Nullable JWSVerifier verifier(JWSAlgorithm alg, JWK key, Set<JWSAlgorithm> allowed) {
    if (!allowed.contains(alg)) {
      return null;
    }
    if (key.getAlgorithm() != null && !key.getAlgorithm().getName().equals(alg.getName())) {
      return null;
    }
    if (key.getKeyUse() != null && !KeyUse.SIGNATURE.equals(key.getKeyUse())) {
      return null;
    }
    try {
      if (key instanceof RSAKey rsa) {
        return JWSAlgorithm.Family.RSA.contains(alg) && rsa.size() >= 2048 ? new RSASSAVerifier(rsa) : null;
      }
      if (key instanceof ECKey ec) {
        Curve expected = alg.equals(JWSAlgorithm.ES256) ? Curve.P_256
            : alg.equals(JWSAlgorithm.ES384) ? Curve.P_384
            : alg.equals(JWSAlgorithm.ES512) ? Curve.P_521 : null;
        return expected != null && expected.equals(ec.getCurve()) ? new ECDSAVerifier(ec.toPublicJWK()) : null;
      }
      if (key instanceof OctetKeyPair okp) {
        boolean edAlg = alg.equals(JWSAlgorithm.EdDSA) || alg.equals(JWSAlgorithm.Ed25519);
        return edAlg && Curve.Ed25519.equals(okp.getCurve()) ? new Ed25519Verifier(okp.toPublicJWK()) : null;
      }
    } catch (JOSEException badKey) {
      return null;
    }
    return null;
  }

  /**
   * The key a token names: by {@code kid} when given; without a {@code kid}, only when exactly one key of the set could
   * verify this algorithm (RFC 7517 allows kid-less sets with a single key per type).
   */
  static @Nullable JWK select(JWKSet keys, @Nullable String kid, JWSAlgorithm alg, Set<JWSAlgorithm> allowed) {
    if (kid != null) {
      return keys.getKeyByKeyId(kid);
    }
    List<JWK> candidates = keys.getKeys().stream().filter(k -> verifier(alg, k, allowed) != null).toList();
    return candidates.size() == 1 ? candidates.get(0) : null;
  }
}

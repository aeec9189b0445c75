package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import org.jspecify.annotations.Nullable;

/**
 * The access-token signing algorithms the broker offers (DESIGN.md §5). Each pins exactly one JWK type and curve, so
 * a verifier that looks the algorithm up from the key (never from the token header alone) cannot be confused.
 */
public enum SigningAlgorithm {
  /** RFC 9068's mandatory algorithm and the cheapest to verify on the JDK (≈ 0.05 ms). */
  RS256(JWSAlgorithm.RS256),
  ES256(JWSAlgorithm.ES256),
  /** Ed25519 (tink provides the implementation). */
  EdDSA(JWSAlgorithm.EdDSA);

  private final JWSAlgorithm jws;

  SigningAlgorithm(JWSAlgorithm jws) {
    this.jws = jws;
  }

  public JWSAlgorithm jws() {
    return jws;
  }

  /** The algorithm a public or private key of ours is used with, or null when the key fits none of them. */
  static @Nullable SigningAlgorithm of(JWK key) {
    if (key instanceof RSAKey rsa) {
      return rsa.size() >= 2048 ? RS256 : null;
    }
    if (key instanceof ECKey ec) {
      return Curve.P_256.equals(ec.getCurve()) ? ES256 : null;
    }
    if (key instanceof OctetKeyPair okp) {
      return Curve.Ed25519.equals(okp.getCurve()) ? EdDSA : null;
    }
    return null;
  }

  /** The name used in a JWS header, e.g. {@code RS256}. */
  static @Nullable SigningAlgorithm ofHeader(JWSAlgorithm alg) {
    for (SigningAlgorithm a : values()) {
      if (a.jws.equals(alg)) {
        return a;
      }
    }
    return null;
  }

  JWK generate(String kid) {
    try {
      return switch (this) {
        case RS256 -> new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(jws).generate();
        case ES256 -> new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(jws).generate();
        case EdDSA -> new OctetKeyPairGenerator(Curve.Ed25519).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(jws)
            .generate();
      };
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate a " + this + " key", e);
    }
  }

  static JWSSigner signer(JWK privateKey) throws JOSEException {
    SigningAlgorithm alg = of(privateKey);
    if (alg == null) {
      throw new JOSEException("unsupported signing key type: " + privateKey.getKeyType());
    }
    return switch (alg) {
      case RS256 -> new RSASSASigner(privateKey.toRSAKey());
      case ES256 -> new ECDSASigner(privateKey.toECKey());
      case EdDSA -> new Ed25519Signer(privateKey.toOctetKeyPair());
    };
  }
}

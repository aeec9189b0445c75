package io.portcullis.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import java.time.Instant;
import java.util.Objects;

/**
 * Signs checkpoints with a private JWK: ES256 for a P-256 {@link ECKey}, RS256 for an {@link RSAKey}. The key must
 * carry a {@code kid}; the verifier picks the public key by it, so keys can rotate while old checkpoints stay valid.
 */
public final class CheckpointSigner {

  static final JOSEObjectType TYPE = new JOSEObjectType("portcullis-audit-checkpoint+jws");

  private final JWSSigner signer;
  private final JWSHeader header;
  private final String kid;

  public CheckpointSigner(JWK privateKey) {
    Objects.requireNonNull(privateKey, "privateKey");
    if (!privateKey.isPrivate()) {
      throw new IllegalArgumentException("privateKey: a public key (expected: a private EC P-256 or RSA JWK)");
    }
    kid = Objects.requireNonNull(privateKey.getKeyID(), "privateKey.kid");
    JWSAlgorithm alg;
    try {
      if (privateKey instanceof ECKey ec && Curve.P_256.equals(ec.getCurve())) {
        signer = new ECDSASigner(ec);
        alg = JWSAlgorithm.ES256;
      } else if (privateKey instanceof RSAKey rsa) {
        signer = new RSASSASigner(rsa);
        alg = JWSAlgorithm.RS256;
      } else {
        throw new IllegalArgumentException("privateKey: " + privateKey.getKeyType() + " (expected: EC P-256 or RSA)");
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("privateKey: unusable (" + e.getMessage() + ")", e);
    }
    header = new JWSHeader.Builder(alg).keyID(kid).type(TYPE).build();
  }

  public String kid() {
    return kid;
  }

  AuditCheckpoint sign(String chainId, long seq, String headHash, long count, Instant time) {
    CheckpointPayload payload = new CheckpointPayload(chainId, seq, headHash, count, time);
    JWSObject jws = new JWSObject(header, new Payload(AuditJson.mapper().writeValueAsString(payload)));
    try {
      jws.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("checkpoint signing failed", e);
    }
    return new AuditCheckpoint(chainId, seq, headHash, count, payload.time(), kid, jws.serialize());
  }

  /** What the JWS covers (snake_case JSON, sorted keys). */
  record CheckpointPayload(String chainId, long seq, String head, long count, Instant time) {
    CheckpointPayload {
      time = time.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }
  }
}

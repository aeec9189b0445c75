package io.portcullis.gateway.config;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.text.ParseException;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * The gateway's own signing key (EC P-256, ES256), for records the gateway itself vouches for — four-eyes approvals
 * today — whether or not this process runs the token broker. It is generated once and kept in
 * {@link InstanceSecrets}, so every replica on the same database signs with the same key, and it never rotates: an
 * approval stays verifiable for as long as the version it approved is kept, where the broker's keys leave its JWKS a
 * token lifetime after rotation. It is deliberately not in the access-token JWKS, so nothing it signs can pass as a
 * token; anyone with database write access could forge with it, but they could also write config versions directly.
 */
public final class InstanceSigningKey {

  static final String SECRET_NAME = "gateway-signing-key";
  private static final JOSEObjectType ACCESS_TOKEN = new JOSEObjectType("at+jwt");

  private final ECKey key;
  private final JWSSigner signer;
  private final JWKSet publicJwks;
  private final String publicJwksJson;

  InstanceSigningKey(ECKey key) {
    if (!key.isPrivate() || !Curve.P_256.equals(key.getCurve()) || key.getKeyID() == null) {
      throw new IllegalArgumentException("key: " + key.getKeyID() + " (expected: a private EC P-256 JWK with a kid)");
    }
    this.key = key;
    try {
      this.signer = new ECDSASigner(key);
    } catch (JOSEException e) {
      throw new IllegalArgumentException("key: unusable (" + e.getMessage() + ")", e);
    }
    this.publicJwks = new JWKSet(key.toPublicJWK());
    this.publicJwksJson = publicJwks.toString(true);
  }

  /** The stored key, generated and stored first if this is the first instance on the database. */
  public static Mono<InstanceSigningKey> load(InstanceSecrets secrets) {
    return secrets.getOrCreate(SECRET_NAME, InstanceSigningKey::generate).map(json -> {
      try {
        return new InstanceSigningKey(ECKey.parse(json));
      } catch (ParseException e) {
        throw new IllegalStateException("instance secret " + SECRET_NAME + " is not an EC JWK: " + e.getMessage(), e);
      }
    });
  }

  private static String generate() {
    try {
      return new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate().toJSONString();
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key", e);
    }
  }

  public String kid() {
    return key.getKeyID();
  }

  /** The private JWK, for signers that take one (e.g. the audit's checkpoint signer). */
  public ECKey privateJwk() {
    return key;
  }

  /** The public key as a JWKS document. */
  public JWKSet publicJwks() {
    return publicJwks;
  }

  public String publicJwksJson() {
    return publicJwksJson;
  }

  /** A compact JWS over {@code payloadJson}; {@code typ} names the record and may never be the access token's. */
  public String signJws(JOSEObjectType type, String payloadJson) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payloadJson, "payloadJson");
    if (ACCESS_TOKEN.equals(type)) {
      throw new IllegalArgumentException("type: at+jwt (expected: any type but the access token's)");
    }
    JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).type(type).keyID(kid()).build(),
        new Payload(payloadJson));
    try {
      jws.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("signing with the instance key " + kid() + " failed", e);
    }
    return jws.serialize();
  }
}

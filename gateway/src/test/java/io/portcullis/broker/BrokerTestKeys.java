package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/**
 * Test-only: signs arbitrary claims with the running broker's active key, so gateway tests can present tokens that
 * are validly signed but wrong in their claims (audience, issuer, lifetime, missing claims). It sits in the broker's
 * package in the gateway's test tree to reach the key ring; production code offers no way to read a private key.
 */
public final class BrokerTestKeys {

  private BrokerTestKeys() {
  }

  /** {@code claims} signed like the broker signs access tokens: its active key and algorithm, {@code typ: at+jwt}. */
  public static String sign(TokenBroker broker, JWTClaimsSet claims) {
    SigningKeys.Ring ring = broker.signingKeys().ring();
    JWSHeader header = new JWSHeader.Builder(ring.active().algorithm().jws())
        .type(TokenIssuer.AT_JWT)
        .keyID(ring.active().kid())
        .build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(ring.signer());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.policy.TokenClaims;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What checking an access token costs at the gateway, per token, on the same path as {@link AccessTokenVerifier}.
 *
 * <ul>
 *   <li>{@code signatureRS256 / ES256 / EdDSA}: the cryptographic work of a first sight of a token — parse the compact
 *       JWS, pick the verifier from the key as {@link JwsVerifiers#verifier} does (a new nimbus verifier per token, as
 *       in {@code AccessTokenVerifier}), verify the signature, parse the claims.
 *   <li>{@code verifyMissRS256 / ES256 / EdDSA}: the whole {@code AccessTokenVerifier.verify(token).block()} for a token
 *       not in the cache (a verifier holding one cached token, cycling over {@value #TOKENS} distinct tokens), so
 *       header checks, claim checks, the digest and the cache writes are included.
 *   <li>{@code cacheHit}: {@code verify(token).block()} for a token verified before — SHA-256 of the token, a cache
 *       lookup and the revocation/pause checks.
 *   <li>{@code rejectedCached}: a token with a bad signature, refused once in setup, presented again: the negative
 *       cache answers ({@code onErrorReturn} keeps {@code block()} from throwing, so no stack trace is measured).
 * </ul>
 *
 * <p>{@code block()} runs on the benchmark thread only (the gateway never blocks: it composes the Mono).
 *
 * <p>Run: {@code ./mvnw -B -q -pl token-broker -Pjmh test-compile exec:exec -Djmh.args="TokenVerifyBenchmark
 * -prof gc"} (policy-engine and test-support installed first: see the {@code jmh} profile in the pom).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(1)
public class TokenVerifyBenchmark {
  static final int TOKENS = 256;
  static final String ISSUER = "https://broker.portcullis.test";
  static final String AUDIENCE = "portcullis-gateway";

  JWK rsa;
  JWK ec;
  JWK ed;
  JWK rsaPublic;
  JWK ecPublic;
  JWK edPublic;
  String[] rsTokens;
  String[] esTokens;
  String[] edTokens;
  String cachedToken;
  String badToken;
  AccessTokenVerifier warmVerifier;
  AccessTokenVerifier missVerifier;
  int i;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rs").keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("es").keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.ES256)
        .generate();
    ed = new OctetKeyPairGenerator(Curve.Ed25519).keyID("ed").keyUse(KeyUse.SIGNATURE)
        .algorithm(JWSAlgorithm.EdDSA).generate();
    rsaPublic = rsa.toPublicJWK();
    ecPublic = ec.toPublicJWK();
    edPublic = ed.toPublicJWK();
    rsTokens = tokens(JWSAlgorithm.RS256, rsa, new RSASSASigner(rsa.toRSAKey()));
    esTokens = tokens(JWSAlgorithm.ES256, ec, new ECDSASigner(ec.toECKey()));
    edTokens = tokens(JWSAlgorithm.EdDSA, ed, new Ed25519Signer(ed.toOctetKeyPair()));

    VerificationKeys keys = VerificationKeys.of(new JWKSet(List.of(rsa, ec, ed)));
    warmVerifier = new AccessTokenVerifier(keys, ISSUER, AUDIENCE, RevocationCheck.NONE, Clock.systemUTC());
    missVerifier = new AccessTokenVerifier(keys, ISSUER, AUDIENCE, RevocationCheck.NONE, Clock.systemUTC(), 1);

    cachedToken = rsTokens[0];
    if (warmVerifier.verify(cachedToken).block() == null) {
      throw new IllegalStateException("token must verify");
    }
    // a valid token of ours with one signature character changed (not the last, whose low bits are padding): it
    // parses, names our kid, and fails the signature check
    String t = rsTokens[1];
    int at = t.length() - 10;
    badToken = t.substring(0, at) + (t.charAt(at) == 'A' ? 'B' : 'A') + t.substring(at + 1);
    TokenClaims refused = warmVerifier.verify(badToken).onErrorReturn(REFUSED).block();
    if (refused != REFUSED) {
      throw new IllegalStateException("bad token must be refused");
    }
    for (String[] all : new String[][] {rsTokens, esTokens, edTokens}) {
      for (String token : all) {
        if (missVerifier.verify(token).block() == null) {
          throw new IllegalStateException("token must verify");
        }
      }
    }
  }

  static final TokenClaims REFUSED = new TokenClaims("-", "-", java.util.Set.of(), 0, Map.of(), "-", Instant.EPOCH,
      Instant.EPOCH);

  /** {@value #TOKENS} distinct tokens shaped like the broker's (typ at+jwt, kid, the claims DESIGN.md §5 lists). */
  static String[] tokens(JWSAlgorithm alg, JWK key, JWSSigner signer) throws Exception {
    String[] out = new String[TOKENS];
    Instant now = Instant.now();
    for (int n = 0; n < TOKENS; n++) {
      JWTClaimsSet claims = new JWTClaimsSet.Builder()
          .issuer(ISSUER).audience(AUDIENCE).subject("user-" + n).claim("client_id", "app-" + (n % 100))
          .jwtID("jti-" + alg + "-" + n).claim("scope", "inventory.items:read hr.people:read").claim("tier", 1)
          .claim("attrs", Map.of("owner_id", "user-" + n, "team_id", "t1", "region", "eu"))
          .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(3600))).build();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).type(new JOSEObjectType("at+jwt"))
          .keyID(key.getKeyID()).build(), claims);
      jwt.sign(signer);
      out[n] = jwt.serialize();
    }
    return out;
  }

  private static JWTClaimsSet verifySignature(String token, JWK key) throws Exception {
    SignedJWT jwt = SignedJWT.parse(token);
    JWSVerifier verifier = JwsVerifiers.verifier(jwt.getHeader().getAlgorithm(), key,
        JwsVerifiers.ACCESS_TOKEN);
    if (verifier == null || !jwt.verify(verifier)) {
      throw new IllegalStateException("signature");
    }
    return jwt.getJWTClaimsSet();
  }

  @Benchmark
  public JWTClaimsSet signatureRS256() throws Exception {
    return verifySignature(rsTokens[i++ & (TOKENS - 1)], rsaPublic);
  }

  @Benchmark
  public JWTClaimsSet signatureES256() throws Exception {
    return verifySignature(esTokens[i++ & (TOKENS - 1)], ecPublic);
  }

  @Benchmark
  public JWTClaimsSet signatureEdDSA() throws Exception {
    return verifySignature(edTokens[i++ & (TOKENS - 1)], edPublic);
  }

  @Benchmark
  public TokenClaims verifyMissRS256() {
    return missVerifier.verify(rsTokens[i++ & (TOKENS - 1)]).block();
  }

  @Benchmark
  public TokenClaims verifyMissES256() {
    return missVerifier.verify(esTokens[i++ & (TOKENS - 1)]).block();
  }

  @Benchmark
  public TokenClaims verifyMissEdDSA() {
    return missVerifier.verify(edTokens[i++ & (TOKENS - 1)]).block();
  }

  @Benchmark
  public TokenClaims cacheHit() {
    return warmVerifier.verify(cachedToken).block();
  }

  @Benchmark
  public TokenClaims rejectedCached() {
    return warmVerifier.verify(badToken).onErrorReturn(REFUSED).block();
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import reactor.core.publisher.Mono;

/**
 * Validates the RFC 8693 {@code subject_token}: an end user's JWT from a trusted corporate IdP. Signature by a key of
 * that issuer's JWKS (inline or fetched, never from the token's headers), an asymmetric algorithm fitting the key,
 * {@code iss} among the trusted issuers, {@code aud} the one configured for it, {@code exp}/{@code nbf} with 30 s skew,
 * a {@code sub}. The user's own {@code scope}/{@code scp}/roles claims are ignored: the scope of the issued token comes
 * only from the app's grants.
 */
final class SubjectTokenValidator {

  static final int MAX_SUBJECT_TOKEN_CHARS = 8 * 1024;
  private static final Duration SKEW = AccessTokenVerifier.SKEW;

  /**
   * @param issuer       exact {@code iss}
   * @param audiences    the token's {@code aud} must contain one of these
   * @param keys         the issuer's signing keys
   * @param claimMapping attrs name → user claim name, e.g. {@code owner_id → sub}
   */
  record TrustedIssuer(String issuer, Set<String> audiences, VerificationKeys keys, Map<String, String> claimMapping) {
    TrustedIssuer {
      Objects.requireNonNull(issuer, "issuer");
      audiences = Set.copyOf(audiences);
      if (audiences.isEmpty()) {
        throw new IllegalArgumentException("trusted issuer " + issuer + ": audiences empty (expected: at least one)");
      }
      Objects.requireNonNull(keys, "keys");
      claimMapping = Map.copyOf(claimMapping);
    }
  }

  /** The user behind a validated subject token. */
  record Subject(String subject, String issuer, Map<String, Object> attrs) {}

  private final Map<String, TrustedIssuer> issuers;
  private final Clock clock;

  SubjectTokenValidator(List<TrustedIssuer> issuers, Clock clock) {
    this.issuers = issuers.stream().collect(Collectors.toUnmodifiableMap(TrustedIssuer::issuer, Function.identity()));
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  boolean enabled() {
    return !issuers.isEmpty();
  }

  Mono<Subject> validate(String subjectToken) {
    if (subjectToken.length() > MAX_SUBJECT_TOKEN_CHARS) {
      return Mono.error(OAuthException.invalidGrant("subject_token too large"));
    }
    SignedJWT jwt;
    JWTClaimsSet unverified;
    try {
      jwt = SignedJWT.parse(subjectToken);
      unverified = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      return Mono.error(OAuthException.invalidGrant("subject_token is not a signed JWT"));
    }
    JWSHeader header = jwt.getHeader();
    // The issuer is read before the signature is checked only to choose whose keys to check it with.
    TrustedIssuer trusted = unverified.getIssuer() == null ? null : issuers.get(unverified.getIssuer());
    if (trusted == null) {
      return Mono.error(OAuthException.invalidGrant("subject_token issuer is not trusted"));
    }
    if (!JwsVerifiers.ASYMMETRIC.contains(header.getAlgorithm()) || header.getKeyID() == null
        || header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      return Mono.error(OAuthException.invalidGrant("subject_token header not acceptable"));
    }
    return trusted.keys().find(header.getKeyID())
        .switchIfEmpty(Mono.error(() -> OAuthException.invalidGrant("subject_token signed by an unknown key")))
        .map(key -> {
          JWSVerifier verifier = JwsVerifiers.verifier(header.getAlgorithm(), key, JwsVerifiers.ASYMMETRIC);
          try {
            if (verifier == null || !jwt.verify(verifier)) {
              throw OAuthException.invalidGrant("subject_token signature invalid");
            }
          } catch (JOSEException e) {
            throw OAuthException.invalidGrant("subject_token signature invalid");
          }
          return checkClaims(trusted, unverified);
        });
  }

  private Subject checkClaims(TrustedIssuer trusted, JWTClaimsSet c) {
    Instant now = clock.instant();
    Date exp = c.getExpirationTime();
    Date nbf = c.getNotBeforeTime();
    if (c.getAudience() == null || c.getAudience().stream().noneMatch(trusted.audiences()::contains)) {
      throw OAuthException.invalidGrant("subject_token audience not accepted");
    }
    if (exp == null || now.isAfter(exp.toInstant().plus(SKEW))) {
      throw OAuthException.invalidGrant("subject_token expired");
    }
    if (nbf != null && now.plus(SKEW).isBefore(nbf.toInstant())) {
      throw OAuthException.invalidGrant("subject_token not yet valid");
    }
    String sub = c.getSubject();
    if (sub == null || sub.isBlank()) {
      throw OAuthException.invalidGrant("subject_token has no sub");
    }
    Map<String, Object> attrs = new LinkedHashMap<>();
    trusted.claimMapping().forEach((attr, claim) -> {
      Object v = c.getClaim(claim);
      // Objects and nulls are dropped: attrs carry only what row filters can compare.
      if (v != null && AttributeValues.allowed(v)) {
        attrs.put(attr, v);
      }
    });
    return new Subject(sub, trusted.issuer(), Map.copyOf(attrs));
  }
}

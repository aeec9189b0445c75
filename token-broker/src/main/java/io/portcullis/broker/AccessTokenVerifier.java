package io.portcullis.broker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.portcullis.policy.TokenClaims;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The gateway's access-token check (DESIGN.md §1 step 1).
 *
 * <p>Order of checks, cheapest first: size (≤ 8 KiB, before any parsing); the caches; header ({@code typ} at+jwt, an
 * asymmetric algorithm from the allow-list, a {@code kid}, no {@code crit}); the key named by {@code kid} from the
 * configured {@link VerificationKeys} — the {@code jku}, {@code x5u}, {@code jwk} and {@code x5c} headers are never
 * read, so a token cannot bring its own key; the algorithm must fit that key's type (no HMAC with a public key); the
 * signature; then {@code iss}, {@code aud}, {@code exp}/{@code nbf} with 30 s skew and the required claims.
 *
 * <p>Verified claims are cached under the token's SHA-256 until {@code exp}, so a token's signature is checked once;
 * refusals are cached for a few seconds, so replaying a bad token costs a hash and a lookup. Revocation and pause are
 * checked on every call, outside the cache.
 */
public final class AccessTokenVerifier {

  public static final int MAX_TOKEN_CHARS = 8 * 1024;
  static final Duration SKEW = Duration.ofSeconds(30);
  static final Duration NEGATIVE_TTL = Duration.ofSeconds(10);

  private static final Set<String> AT_TYPES = Set.of("at+jwt", "application/at+jwt");

  private final VerificationKeys keys;
  private final String issuer;
  private final String audience;
  private final RevocationCheck revocations;
  private final Clock clock;
  private final Cache<Digest, TokenClaims> verified;
  private final Cache<Digest, TokenRejectedException> refused;

  public AccessTokenVerifier(VerificationKeys keys, String issuer, String audience, RevocationCheck revocations,
      Clock clock) {
    this(keys, issuer, audience, revocations, clock, 100_000);
  }

  public AccessTokenVerifier(VerificationKeys keys, String issuer, String audience, RevocationCheck revocations,
      Clock clock, int maxCachedTokens) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.audience = Objects.requireNonNull(audience, "audience");
    this.revocations = Objects.requireNonNull(revocations, "revocations");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxCachedTokens <= 0) {
      throw new IllegalArgumentException("maxCachedTokens: %s (expected: > 0)".formatted(maxCachedTokens));
    }
    // Cache maintenance (the read buffers' drain, expiry) on the calling thread, under Caffeine's non-blocking
    // tryLock: the default executor, the common ForkJoinPool, was woken every few cache hits to do a few hundred
    // nanoseconds of work, a thread wake-up and two context switches each time (load-tests/RESULTS.md).
    this.verified = Caffeine.newBuilder()
        .executor(Runnable::run)
        .maximumSize(maxCachedTokens)
        .expireAfter(new Expiry<Digest, TokenClaims>() {
          @Override
          public long expireAfterCreate(Digest key, TokenClaims claims, long currentTime) {
            long nanos = Duration.between(clock.instant(), claims.expiresAt().plus(SKEW)).toNanos();
            return Math.max(0, nanos);
          }

          @Override
          public long expireAfterUpdate(Digest key, TokenClaims claims, long currentTime, long currentDuration) {
            return currentDuration;
          }

          @Override
          public long expireAfterRead(Digest key, TokenClaims claims, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .build();
    this.refused = Caffeine.newBuilder()
        .executor(Runnable::run)
        .maximumSize(Math.max(1_000, maxCachedTokens / 10))
        .expireAfterWrite(NEGATIVE_TTL)
        .build();
  }

  /**
   * The verified claims of {@code compactJwt}, or an error {@link TokenRejectedException}. Completes synchronously when
   * the token is cached or the keys are in-process; may fetch the remote JWKS (non-blocking) on an unknown {@code kid}.
   */
  public Mono<TokenClaims> verify(String compactJwt) {
    if (compactJwt == null || compactJwt.isEmpty()) {
      return Mono.error(reject(TokenError.INVALID_TOKEN, "no token"));
    }
    if (compactJwt.length() > MAX_TOKEN_CHARS) {
      return Mono.error(reject(TokenError.INVALID_TOKEN, "token larger than " + MAX_TOKEN_CHARS + " characters"));
    }
    Digest digest = Digest.of(compactJwt);
    TokenClaims cached = verified.getIfPresent(digest);
    if (cached != null) {
      return live(cached);
    }
    TokenRejectedException known = refused.getIfPresent(digest);
    if (known != null) {
      return Mono.error(known);
    }
    SignedJWT jwt;
    JWSHeader header;
    try {
      jwt = SignedJWT.parse(compactJwt);
      header = jwt.getHeader();
      checkHeader(header);
    } catch (ParseException e) {
      return refuse(digest, reject(TokenError.INVALID_TOKEN, "not a signed JWT"));
    } catch (TokenRejectedException e) {
      return refuse(digest, e);
    }
    String kid = header.getKeyID();
    return keys.find(kid)
        .switchIfEmpty(Mono.error(() -> reject(TokenError.INVALID_TOKEN, "unknown kid " + abbreviate(kid))))
        .map(key -> claimsOf(jwt, header, key))
        .doOnNext(claims -> verified.put(digest, claims))
        .onErrorResume(TokenRejectedException.class, e -> refuse(digest, e))
        .flatMap(this::live);
  }

  private void checkHeader(JWSHeader header) {
    JOSEObjectType typ = header.getType();
    if (typ == null || !AT_TYPES.contains(typ.getType().toLowerCase(java.util.Locale.ROOT))) {
      throw reject(TokenError.INVALID_TOKEN, "typ is not at+jwt");
    }
    if (!JwsVerifiers.ACCESS_TOKEN.contains(header.getAlgorithm())) {
      throw reject(TokenError.INVALID_TOKEN, "algorithm not allowed");
    }
    if (header.getKeyID() == null || header.getKeyID().isBlank()) {
      throw reject(TokenError.INVALID_TOKEN, "no kid");
    }
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      // We never issue crit; an extension we do not implement must not be silently ignored (RFC 7515 §4.1.11).
      throw reject(TokenError.INVALID_TOKEN, "crit header not supported");
    }
  }

  private TokenClaims claimsOf(SignedJWT jwt, JWSHeader header, JWK key) {
    JWSVerifier verifier = JwsVerifiers.verifier(header.getAlgorithm(), key, JwsVerifiers.ACCESS_TOKEN);
    if (verifier == null) {
      throw reject(TokenError.INVALID_TOKEN, "algorithm does not match the key");
    }
    try {
      if (!jwt.verify(verifier)) {
        throw reject(TokenError.INVALID_TOKEN, "bad signature");
      }
    } catch (JOSEException e) {
      throw reject(TokenError.INVALID_TOKEN, "signature not verifiable");
    }
    JWTClaimsSet c;
    try {
      c = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw reject(TokenError.INVALID_TOKEN, "claims are not a JSON object");
    }
    Instant now = clock.instant();
    if (!issuer.equals(c.getIssuer())) {
      throw reject(TokenError.INVALID_TOKEN, "wrong issuer");
    }
    if (c.getAudience() == null || !c.getAudience().contains(audience)) {
      throw reject(TokenError.INVALID_TOKEN, "wrong audience");
    }
    Date exp = c.getExpirationTime();
    Date iat = c.getIssueTime();
    if (exp == null || iat == null) {
      throw reject(TokenError.INVALID_TOKEN, "exp and iat are required");
    }
    if (now.isAfter(exp.toInstant().plus(SKEW))) {
      throw reject(TokenError.TOKEN_EXPIRED, "expired at " + exp.toInstant());
    }
    Date nbf = c.getNotBeforeTime();
    if (nbf != null && now.plus(SKEW).isBefore(nbf.toInstant())) {
      throw reject(TokenError.INVALID_TOKEN, "not valid before " + nbf.toInstant());
    }
    if (now.plus(SKEW).isBefore(iat.toInstant())) {
      throw reject(TokenError.INVALID_TOKEN, "issued in the future");
    }
    try {
      String sub = requiredString(c, "sub");
      String clientId = requiredString(c, "client_id");
      String jti = requiredString(c, "jti");
      String scope = c.getStringClaim("scope");
      if (scope == null) {
        throw reject(TokenError.INVALID_TOKEN, "scope is required");
      }
      Long tier = c.getLongClaim("tier");
      if (tier == null || tier < 0 || tier > 2) {
        throw reject(TokenError.INVALID_TOKEN, "tier is required (0..2)");
      }
      Map<String, Object> attrs = attrs(c.getJSONObjectClaim("attrs"));
      Set<String> scopes = scope.isBlank() ? Set.of() : Set.of(scope.trim().split(" +"));
      return new TokenClaims(sub, clientId, scopes, tier.intValue(), attrs, jti, iat.toInstant(), exp.toInstant());
    } catch (ParseException | IllegalArgumentException e) {
      // Wrong claim types, or duplicate scopes (Set.of refuses them): not a token we issued.
      throw reject(TokenError.INVALID_TOKEN, "malformed claims");
    }
  }

  private static String requiredString(JWTClaimsSet c, String name) throws ParseException {
    String v = c.getStringClaim(name);
    if (v == null || v.isBlank()) {
      throw reject(TokenError.INVALID_TOKEN, name + " is required");
    }
    return v;
  }

  private static Map<String, Object> attrs(@Nullable Map<String, Object> raw) {
    if (raw == null || raw.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : raw.entrySet()) {
      Object v = e.getValue();
      if (v == null) {
        continue;
      }
      if (!AttributeValues.allowed(v)) {
        throw reject(TokenError.INVALID_TOKEN, "attrs." + e.getKey() + " is not a string, number, boolean or list");
      }
      out.put(e.getKey(), v instanceof List<?> l ? List.copyOf(l) : v);
    }
    return out;
  }

  private Mono<TokenClaims> live(TokenClaims claims) {
    if (clock.instant().isAfter(claims.expiresAt().plus(SKEW))) {
      return Mono.error(reject(TokenError.TOKEN_EXPIRED, "expired at " + claims.expiresAt()));
    }
    if (revocations.isRevoked(claims.jti())) {
      return Mono.error(reject(TokenError.TOKEN_REVOKED, "jti " + claims.jti() + " revoked"));
    }
    if (revocations.isPaused(claims.clientId())) {
      return Mono.error(reject(TokenError.APP_PAUSED, "app " + claims.clientId() + " paused"));
    }
    return Mono.just(claims);
  }

  private <T> Mono<T> refuse(Digest digest, TokenRejectedException e) {
    refused.put(digest, e);
    return Mono.error(e);
  }

  private static TokenRejectedException reject(TokenError error, String detail) {
    return new TokenRejectedException(error, detail);
  }

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }

  /** SHA-256 of the token as four longs: cheap equals/hashCode, 32 bytes held per cached token. */
  record Digest(long a, long b, long c, long d) {

    /**
     * One digest per thread (the event loops, in the gateway): {@code getInstance} looks the algorithm up among the
     * security providers and allocates a new engine on every call, on every request's cache hit. {@code digest}
     * resets the engine, so nothing of one token stays for the next.
     */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    });

    static Digest of(String token) {
      byte[] h = SHA256.get().digest(token.getBytes(StandardCharsets.UTF_8));
      ByteBuffer bb = ByteBuffer.wrap(h);
      return new Digest(bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong());
    }
  }
}

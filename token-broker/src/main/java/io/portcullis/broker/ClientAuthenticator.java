package io.portcullis.broker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Client authentication at the token and revocation endpoints: {@code client_secret_basic}, {@code
 * client_secret_post} and {@code private_key_jwt} (RFC 7523 §2.2 / OIDC Core §9). Exactly one method per request.
 *
 * <p>PBKDF2 at 310k iterations costs ~0.2 s of CPU, so it runs on a small dedicated scheduler with a bounded queue
 * (a flood gets {@code slow_down}, not an event loop stall), behind {@link AuthFailureLimiter}, and a successful check
 * is remembered for a few minutes under an HMAC of the secret with a per-process random key (so the usual client
 * asking for a token every few minutes does not pay the hash each time; the cache holds no secret).
 */
final class ClientAuthenticator {

  static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  static final int MAX_ASSERTION_CHARS = 8 * 1024;
  /** Client assertions are meant to be single-use and short-lived; this bounds the replay cache. */
  static final Duration MAX_ASSERTION_LIFETIME = Duration.ofMinutes(10);
  private static final Duration SKEW = AccessTokenVerifier.SKEW;
  private static final Duration VERIFIED_SECRET_TTL = Duration.ofMinutes(5);
  /** Hashed when the client is unknown, so response time does not reveal which client ids exist. */
  private static final String DUMMY_HASH = SecretHasher.hash("not-a-real-secret".toCharArray());

  private final ClientRegistry registry;
  private final Set<String> assertionAudiences;
  private final AuthFailureLimiter limiter;
  private final RevocationCheck paused;
  private final Clock clock;
  private final Scheduler hashing;
  private final byte[] cacheKey = new byte[32];
  private final Cache<String, Boolean> verifiedSecrets;
  private final Cache<String, JWKSet> parsedJwks;
  private final Cache<String, Instant> usedAssertions;

  ClientAuthenticator(ClientRegistry registry, Set<String> assertionAudiences, AuthFailureLimiter limiter,
      RevocationCheck paused, Clock clock) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.assertionAudiences = Set.copyOf(assertionAudiences);
    this.limiter = Objects.requireNonNull(limiter, "limiter");
    this.paused = Objects.requireNonNull(paused, "paused");
    this.clock = Objects.requireNonNull(clock, "clock");
    int cores = Runtime.getRuntime().availableProcessors();
    this.hashing = Schedulers.newBoundedElastic(Math.max(1, cores), 256, "portcullis-secret-hash", 60, true);
    new SecureRandom().nextBytes(cacheKey);
    this.verifiedSecrets = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(VERIFIED_SECRET_TTL).build();
    this.parsedJwks = Caffeine.newBuilder().maximumSize(10_000).build();
    this.usedAssertions = Caffeine.newBuilder()
        .maximumSize(1_000_000)
        .expireAfter(new Expiry<String, Instant>() {
          @Override
          public long expireAfterCreate(String key, Instant exp, long now) {
            return Math.max(0, Duration.between(clock.instant(), exp.plus(SKEW)).toNanos());
          }

          @Override
          public long expireAfterUpdate(String key, Instant exp, long now, long current) {
            return current;
          }

          @Override
          public long expireAfterRead(String key, Instant exp, long now, long current) {
            return current;
          }
        })
        .build();
  }

  /**
   * The authenticated, active client. Errors: {@code invalid_request} (zero or several methods), {@code invalid_client}
   * (unknown client or bad credentials), {@code slow_down} (too many failures), {@code unauthorized_client} (the
   * client authenticated but is paused or retired).
   */
  Mono<RegisteredClient> authenticate(Form form, @Nullable String authorization, String remoteAddress) {
    Credentials credentials;
    try {
      credentials = credentials(form, authorization);
    } catch (OAuthException e) {
      return Mono.error(e);
    }
    String claimedId = credentials.clientId();
    if (!limiter.tryBegin(claimedId, remoteAddress)) {
      return Mono.error(OAuthException.slowDown("too many failed client authentications; retry after "
          + limiter.window().toSeconds() + " s").forClient(claimedId).because("too_many_failures"));
    }
    RegisteredClient client = claimedId == null ? null : registry.find(claimedId);
    Mono<Boolean> check = credentials.assertion() != null
        ? Mono.fromSupplier(() -> client != null && assertionValid(client, credentials.assertion()))
        : secretValid(client, credentials.secret());
    return check.flatMap(ok -> {
      if (!ok) {
        // the audit event is emitted where the refusal is answered (BrokerRoutes), once per request
        return Mono.error(OAuthException.invalidClient("client authentication failed").forClient(claimedId)
            .because(client == null ? "unknown_client" : credentials.method()));
      }
      limiter.succeeded(claimedId, remoteAddress);
      if (!client.active() || paused.isPaused(client.clientId())) {
        return Mono.error(OAuthException.unauthorizedClient("client is paused or retired").forClient(client.clientId())
            .because(client.active() ? "paused" : "retired"));
      }
      return Mono.just(client);
    });
  }

  /** What the request presents; {@code method} names it for the audit (never the value). */
  private record Credentials(String method, @Nullable String clientId, char @Nullable [] secret,
      @Nullable SignedJWT assertion) {}

  private Credentials credentials(Form form, @Nullable String authorization) {
    boolean basic = authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6);
    boolean post = form.has("client_secret");
    boolean jwt = form.has("client_assertion") || form.has("client_assertion_type");
    if ((basic ? 1 : 0) + (post ? 1 : 0) + (jwt ? 1 : 0) > 1) {
      throw OAuthException.invalidRequest("use exactly one client authentication method");
    }
    if (basic) {
      String[] idAndSecret = decodeBasic(authorization.substring(6).trim());
      String formId = form.get("client_id");
      if (formId != null && !formId.equals(idAndSecret[0])) {
        throw OAuthException.invalidRequest("client_id does not match the Authorization header");
      }
      return new Credentials("client_secret_basic", idAndSecret[0], idAndSecret[1].toCharArray(), null);
    }
    if (post) {
      String id = form.get("client_id");
      if (id == null) {
        throw OAuthException.invalidRequest("client_secret_post needs client_id");
      }
      return new Credentials("client_secret_post", id, form.require("client_secret").toCharArray(), null);
    }
    if (jwt) {
      if (!JWT_BEARER.equals(form.get("client_assertion_type"))) {
        throw OAuthException.invalidRequest("client_assertion_type must be " + JWT_BEARER);
      }
      String assertion = form.require("client_assertion");
      if (assertion.length() > MAX_ASSERTION_CHARS) {
        throw OAuthException.invalidClient("client assertion too large");
      }
      SignedJWT parsed;
      String sub;
      try {
        parsed = SignedJWT.parse(assertion);
        sub = parsed.getJWTClaimsSet().getSubject();
      } catch (ParseException e) {
        throw OAuthException.invalidClient("client assertion is not a signed JWT");
      }
      String formId = form.get("client_id");
      if (sub == null || formId != null && !formId.equals(sub)) {
        throw OAuthException.invalidClient("client assertion sub must be the client_id");
      }
      return new Credentials("private_key_jwt", sub, null, parsed);
    }
    throw OAuthException.invalidClient("client authentication required");
  }

  private static String[] decodeBasic(String b64) {
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw OAuthException.invalidClient("malformed Basic credentials");
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw OAuthException.invalidClient("malformed Basic credentials");
    }
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return new String[] {Form.decode(decoded.substring(0, colon)), Form.decode(decoded.substring(colon + 1))};
  }

  private Mono<Boolean> secretValid(@Nullable RegisteredClient client, char[] secret) {
    String hash = client == null ? null : client.secretHash();
    String remembered = hash == null ? null : rememberKey(client.clientId(), hash, secret);
    if (remembered != null && verifiedSecrets.getIfPresent(remembered) != null) {
      Arrays.fill(secret, '\0');
      return Mono.just(true);
    }
    String against = hash != null ? hash : DUMMY_HASH;
    return Mono.fromCallable(() -> {
          try {
            return SecretHasher.verify(secret, against) && hash != null;
          } finally {
            Arrays.fill(secret, '\0');
          }
        })
        .subscribeOn(hashing)
        .onErrorMap(RejectedExecutionException.class, full -> OAuthException.slowDown("authentication queue full")
            .forClient(client == null ? null : client.clientId()).because("queue_full"))
        .doOnNext(ok -> {
          if (ok && remembered != null) {
            verifiedSecrets.put(remembered, Boolean.TRUE);
          }
        });
  }

  /** HMAC(random process key, client id, stored hash, secret): changes when the secret or its hash changes. */
  private String rememberKey(String clientId, String hash, char[] secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(cacheKey, "HmacSHA256"));
      mac.update(clientId.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(hash.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      byte[] s = new String(secret).getBytes(StandardCharsets.UTF_8);
      try {
        return HexFormat.of().formatHex(mac.doFinal(s));
      } finally {
        Arrays.fill(s, (byte) 0);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 7523 §3: signature by a registered key, iss = sub = client_id, aud = us, exp, single-use jti. */
  private boolean assertionValid(RegisteredClient client, SignedJWT assertion) {
    if (client.jwks() == null) {
      return false;
    }
    JWSHeader header = assertion.getHeader();
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      return false;
    }
    JWKSet keys = parsedJwks.get(client.jwks(), ClientAuthenticator::parseJwks);
    if (keys == null) {
      return false;
    }
    JWK key = JwsVerifiers.select(keys, header.getKeyID(), header.getAlgorithm(), JwsVerifiers.ASYMMETRIC);
    JWSVerifier verifier = key == null ? null
        : JwsVerifiers.verifier(header.getAlgorithm(), key, JwsVerifiers.ASYMMETRIC);
    try {
      if (verifier == null || !assertion.verify(verifier)) {
        return false;
      }
      JWTClaimsSet c = assertion.getJWTClaimsSet();
      Instant now = clock.instant();
      Date exp = c.getExpirationTime();
      Date nbf = c.getNotBeforeTime();
      if (!client.clientId().equals(c.getIssuer()) || !client.clientId().equals(c.getSubject())
          || c.getAudience() == null || c.getAudience().stream().noneMatch(assertionAudiences::contains)
          || exp == null || now.isAfter(exp.toInstant().plus(SKEW))
          || exp.toInstant().isAfter(now.plus(MAX_ASSERTION_LIFETIME))
          || nbf != null && now.plus(SKEW).isBefore(nbf.toInstant())
          || c.getJWTID() == null || c.getJWTID().isBlank()) {
        return false;
      }
      // Single use: the first presentation wins, any replay within the assertion's lifetime fails.
      return usedAssertions.asMap().putIfAbsent(client.clientId() + "\u0000" + c.getJWTID(), exp.toInstant()) == null;
    } catch (JOSEException | ParseException e) {
      return false;
    }
  }

  private static @Nullable JWKSet parseJwks(String json) {
    try {
      return JWKSet.parse(json).toPublicJWKSet();
    } catch (ParseException e) {
      return null;
    }
  }

  java.time.Duration retryAfter() {
    return limiter.window();
  }

  void close() {
    hashing.dispose();
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Mints RFC 9068 access tokens: header {@code typ: at+jwt} and {@code kid}; claims {@code iss aud sub client_id scope
 * tier jti iat nbf exp attrs} (DESIGN.md §5).
 *
 * <p>Granted scope = requested ∩ grantable (an empty request means every grantable scope; an empty intersection is
 * {@code invalid_scope}). Lifetime = min(requested, the tier's maximum).
 */
public final class TokenIssuer {

  static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");

  private final SigningKeys keys;
  private final String issuer;
  private final String audience;
  private final Clock clock;

  public TokenIssuer(SigningKeys keys, String issuer, String audience, Clock clock) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.issuer = requireText(issuer, "issuer");
    this.audience = requireText(audience, "audience");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The longest lifetime a token of this tier may have: tier 0/1 one hour, tier 2 fifteen minutes. */
  public static Duration maxTtl(int tier) {
    return tier >= 2 ? Duration.ofSeconds(900) : Duration.ofSeconds(3600);
  }

  /** The longest lifetime of any token (sizes the key-rotation overlap). */
  public static Duration maxTtl() {
    return maxTtl(0);
  }

  /**
   * @param requestedScopes the {@code scope} parameter split on spaces, empty when absent
   * @param requestedTtl    the {@code expires_in} parameter, or null
   * @param attrs           ABAC attributes for the {@code attrs} claim (String, Number, Boolean or List values)
   * @throws OAuthException {@code invalid_scope} when nothing requested is grantable
   */
  IssuedToken issue(RegisteredClient client, String subject, Set<String> requestedScopes,
      @Nullable Duration requestedTtl, Map<String, Object> attrs) {
    Set<String> granted = grantedScopes(requestedScopes, client.grantableScopes());
    Duration ttl = maxTtl(client.tier());
    if (requestedTtl != null && requestedTtl.compareTo(ttl) < 0) {
      ttl = requestedTtl;
    }
    Instant now = Instant.ofEpochSecond(clock.instant().getEpochSecond());
    Instant exp = now.plus(ttl);
    String jti = UUID.randomUUID().toString();
    SigningKeys.Ring ring = keys.ring();
    JWSHeader header = new JWSHeader.Builder(ring.active().algorithm().jws())
        .type(AT_JWT)
        .keyID(ring.active().kid())
        .build();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .audience(audience)
        .subject(subject)
        .claim("client_id", client.clientId())
        .claim("scope", String.join(" ", granted))
        .claim("tier", client.tier())
        .jwtID(jti)
        .issueTime(Date.from(now))
        .notBeforeTime(Date.from(now))
        .expirationTime(Date.from(exp))
        .claim("attrs", attrs)
        .build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(ring.signer());
    } catch (JOSEException e) {
      throw new IllegalStateException("signing with key " + ring.active().kid() + " failed", e);
    }
    return new IssuedToken(jwt.serialize(), jti, subject, client.clientId(), granted, client.tier(), now, exp,
        ring.active().kid());
  }

  /** Sorted, so the same grant always renders the same {@code scope} string. */
  static Set<String> grantedScopes(Set<String> requested, Set<String> grantable) {
    TreeSet<String> granted = new TreeSet<>(requested.isEmpty() ? grantable : requested);
    granted.retainAll(grantable);
    if (granted.isEmpty()) {
      throw OAuthException.invalidScope(requested.isEmpty()
          ? "the client has no grantable scope"
          : "none of the requested scopes is granted to this client");
    }
    return java.util.Collections.unmodifiableSortedSet(granted);
  }

  String issuer() {
    return issuer;
  }

  String audience() {
    return audience;
  }

  private static String requireText(String value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException("%s: blank (expected: non-blank)".formatted(name));
    }
    return value;
  }
}

package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The broker's key ring: the active signing key plus the retired keys still published until their last token expires.
 *
 * <p>The ring is an immutable snapshot swapped atomically ({@link SigningKeyStore} replaces it after loading or
 * rotating), so signing and verifying never lock. The JWKS document is rendered once per snapshot.
 */
public final class SigningKeys implements VerificationKeys {

  private final AtomicReference<Ring> ring = new AtomicReference<>();
  private final Clock clock;

  SigningKeys(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A ring of one freshly generated key, kept in memory only (tests, single-process demos). */
  public static SigningKeys generate(SigningAlgorithm algorithm, Clock clock) {
    SigningKeys keys = new SigningKeys(clock);
    keys.replace(List.of(SigningKey.generate(algorithm, clock.instant())));
    return keys;
  }

  record Ring(SigningKey active, JWSSigner signer, Map<String, SigningKey> published, JWKSet publicJwks,
      String publicJwksJson) {}

  /** Installs a new snapshot: exactly one active key among {@code keys}. */
  void replace(Collection<SigningKey> keys) {
    List<SigningKey> active = keys.stream().filter(SigningKey::active).toList();
    if (active.size() != 1) {
      throw new IllegalStateException("expected exactly one active signing key, found " + active.size());
    }
    Instant now = clock.instant();
    Map<String, SigningKey> published = keys.stream()
        .filter(k -> k.publishedAt(now))
        .collect(Collectors.toUnmodifiableMap(SigningKey::kid, Function.identity()));
    List<JWK> jwks = new ArrayList<>();
    jwks.add(active.get(0).publicJwk());
    published.values().stream().filter(k -> !k.active()).map(SigningKey::publicJwk).forEach(jwks::add);
    JWKSet set = new JWKSet(jwks);
    ring.set(new Ring(active.get(0), active.get(0).signer(), published, set, set.toString(true)));
  }

  Ring ring() {
    Ring r = ring.get();
    if (r == null) {
      throw new IllegalStateException("signing keys not loaded yet");
    }
    return r;
  }

  SigningKey active() {
    return ring().active();
  }

  /** Every key currently published, active first. */
  List<SigningKey> published() {
    Ring r = ring();
    List<SigningKey> out = new ArrayList<>();
    out.add(r.active());
    r.published().values().stream().filter(k -> !k.active()).forEach(out::add);
    return List.copyOf(out);
  }

  /** Public keys only: the document served at {@code /.well-known/jwks.json}. */
  public JWKSet publicJwks() {
    return ring().publicJwks();
  }

  String publicJwksJson() {
    return ring().publicJwksJson();
  }

  /** The active key's id (tokens minted now carry it). */
  public String activeKid() {
    return ring().active().kid();
  }

  /**
   * Signs a JSON payload as a compact JWS with the active key (e.g. the admin API's four-eyes approvals). The header's
   * {@code typ} must not be {@code at+jwt}: the access-token verifier requires that type, so a record signed here can
   * never pass as a token. Anyone can verify it with the published JWKS while the key is published.
   */
  public String signJws(JOSEObjectType type, String payloadJson) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payloadJson, "payloadJson");
    if (TokenIssuer.AT_JWT.equals(type)) {
      throw new IllegalArgumentException("type: at+jwt (expected: any type but the access token's)");
    }
    Ring r = ring();
    JWSObject jws = new JWSObject(
        new JWSHeader.Builder(r.active().algorithm().jws()).type(type).keyID(r.active().kid()).build(),
        new Payload(payloadJson));
    try {
      jws.sign(r.signer());
    } catch (JOSEException e) {
      throw new IllegalStateException("signing with key " + r.active().kid() + " failed", e);
    }
    return jws.serialize();
  }

  /** The public key with this id, while it is published. */
  public @Nullable JWK publicKey(String kid) {
    Ring r = ring.get();
    if (r == null) {
      return null;
    }
    SigningKey k = r.published().get(kid);
    return k == null || !k.publishedAt(clock.instant()) ? null : k.publicJwk();
  }

  @Override
  public Mono<JWK> find(String kid) {
    return Mono.justOrEmpty(publicKey(kid));
  }

  boolean loaded() {
    return ring.get() != null;
  }
}

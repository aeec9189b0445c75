package io.portcullis.broker;

import com.nimbusds.jose.jwk.JWK;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Readable;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Persists the key ring in {@code portcullis.signing_keys}, private keys sealed with the {@link KeyEncryptionKey}, and
 * keeps a {@link SigningKeys} up to date with it.
 *
 * <p>Rotation with overlap: the retired key stays published until {@code retired_at + maxTokenTtl + skew}, i.e. until
 * the last token it signed has expired everywhere. Several broker instances may share the table: a unique partial
 * index allows one active key, so concurrent rotations or first starts resolve to one winner and the others reload.
 */
public final class SigningKeyStore {

  /** Covers clock skew between the broker and verifiers (verifiers accept exp up to 30 s late). */
  static final Duration PUBLISH_SKEW = Duration.ofSeconds(60);

  private final ConnectionFactory connectionFactory;
  private final KeyEncryptionKey kek;
  private final SigningAlgorithm algorithm;
  private final Duration rotationPeriod;
  private final Duration maxTokenTtl;
  private final Clock clock;
  private final SigningKeys keys;

  public SigningKeyStore(ConnectionFactory connectionFactory, KeyEncryptionKey kek, SigningAlgorithm algorithm,
      Duration rotationPeriod, Duration maxTokenTtl, Clock clock) {
    this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.kek = Objects.requireNonNull(kek, "kek");
    this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
    this.rotationPeriod = Objects.requireNonNull(rotationPeriod, "rotationPeriod");
    this.maxTokenTtl = Objects.requireNonNull(maxTokenTtl, "maxTokenTtl");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (rotationPeriod.compareTo(maxTokenTtl) <= 0) {
      throw new IllegalArgumentException(
          "rotationPeriod: %s (expected: > max token TTL %s)".formatted(rotationPeriod, maxTokenTtl));
    }
    if (maxTokenTtl.isNegative() || maxTokenTtl.isZero()) {
      throw new IllegalArgumentException("maxTokenTtl: %s (expected: > 0)".formatted(maxTokenTtl));
    }
    this.keys = new SigningKeys(clock);
  }

  /** The ring this store maintains (empty until {@link #initialize()} completes). */
  public SigningKeys keys() {
    return keys;
  }

  /**
   * Loads the ring, creating the first key when the table has none, and rotates when the active key is older than the
   * rotation period or uses another algorithm than configured. Expects {@link BrokerSchema#apply} to have run.
   */
  public Mono<SigningKeys> initialize() {
    return refresh()
        .flatMap(ring -> ring.isEmpty() ? insertFirstKey().then(refresh()) : Mono.just(ring))
        .flatMap(ring -> rotateIfDue())
        .then(refresh())
        .thenReturn(keys);
  }

  /**
   * Re-reads the table into {@link #keys()} (so a rotation by another instance becomes visible) and rotates if due.
   * Run periodically.
   */
  public Mono<Void> maintain() {
    return refresh().then(rotateIfDue()).then(purgeUnpublished()).then();
  }

  /** Retires the active key now and activates a fresh one; the retired key stays in the JWKS until its tokens expire. */
  public Mono<Void> rotateNow() {
    return refresh().then(Mono.defer(() -> rotate(keys.loaded() ? keys.activeKid() : null))).then(refresh()).then();
  }

  /** True when a rotation was performed. */
  Mono<Boolean> rotateIfDue() {
    return Mono.defer(() -> {
      if (!keys.loaded()) {
        return Mono.just(false);
      }
      SigningKey active = keys.active();
      boolean old = !clock.instant().isBefore(active.createdAt().plus(rotationPeriod));
      if (!old && active.algorithm() == algorithm) {
        return Mono.just(false);
      }
      return rotate(active.kid()).then(refresh()).thenReturn(true);
    });
  }

  /** Deletes keys that have left the JWKS for a day (kept a little for forensics). */
  Mono<Long> purgeUnpublished() {
    return withConnection(c -> Mono.from(c.createStatement(
                "DELETE FROM portcullis.signing_keys WHERE publish_until IS NOT NULL AND publish_until < $1")
            .bind("$1", clock.instant().minus(Duration.ofDays(1)))
            .execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated())));
  }

  private Mono<List<SigningKey>> refresh() {
    return withConnection(c -> Flux.from(c.createStatement(
                "SELECT kid, private_jwk_enc, created_at, retired_at, publish_until FROM portcullis.signing_keys"
                    + " WHERE publish_until IS NULL OR publish_until > $1")
            .bind("$1", clock.instant())
            .execute())
        .flatMap(r -> r.map(this::readKey))
        .collectList())
        .doOnNext(list -> {
          if (!list.isEmpty()) {
            keys.replace(list);
          }
        });
  }

  private SigningKey readKey(Readable row) {
    String kid = Objects.requireNonNull(row.get("kid", String.class));
    byte[] sealed = Objects.requireNonNull(row.get("private_jwk_enc", byte[].class));
    JWK jwk;
    try {
      jwk = JWK.parse(kek.decrypt(sealed, kid));
    } catch (ParseException e) {
      throw new IllegalStateException("signing key " + kid + ": stored JWK does not parse", e);
    }
    if (!kid.equals(jwk.getKeyID())) {
      throw new IllegalStateException("signing key " + kid + ": stored JWK has kid " + jwk.getKeyID());
    }
    return SigningKey.fromPrivate(jwk, Objects.requireNonNull(row.get("created_at", Instant.class)),
        row.get("retired_at", Instant.class), row.get("publish_until", Instant.class));
  }

  /**
   * A fresh key, generated off the event loops: an RSA key pair takes tens to hundreds of milliseconds of CPU, which
   * on an event loop (start-up, a rotation by the admin endpoint) would stall every connection it serves.
   */
  private Mono<SigningKey> generated() {
    return Mono.fromCallable(() -> SigningKey.generate(algorithm, now())).subscribeOn(Schedulers.boundedElastic());
  }

  private Mono<Void> insertFirstKey() {
    // ON CONFLICT DO NOTHING: another instance created the first key at the same moment; we load theirs.
    return generated().flatMap(key -> withConnection(c -> insert(c, key, " ON CONFLICT DO NOTHING"))).then();
  }

  private Mono<Void> rotate(@Nullable String retiringKid) {
    return generated().flatMap(fresh -> rotateTo(fresh, retiringKid));
  }

  private Mono<Void> rotateTo(SigningKey fresh, @Nullable String retiringKid) {
    Instant retiredAt = now();
    Instant publishUntil = retiredAt.plus(maxTokenTtl).plus(PUBLISH_SKEW);
    return withConnection(c -> Mono.from(c.beginTransaction())
        .then(retiringKid == null ? Mono.just(0L) : Mono.from(c.createStatement(
                    "UPDATE portcullis.signing_keys SET retired_at = $1, publish_until = $2"
                        + " WHERE kid = $3 AND retired_at IS NULL")
                .bind("$1", retiredAt).bind("$2", publishUntil).bind("$3", retiringKid)
                .execute())
            .flatMap(r -> Mono.from(r.getRowsUpdated())))
        .flatMap(updated -> retiringKid != null && updated == 0
            // Someone else rotated first: keep theirs.
            ? Mono.from(c.rollbackTransaction())
            : insert(c, fresh, "").then(Mono.from(c.commitTransaction())))
        .onErrorResume(R2dbcDataIntegrityViolationException.class,
            lostRace -> Mono.from(c.rollbackTransaction())))
        .then();
  }

  private Mono<Long> insert(Connection c, SigningKey key, String suffix) {
    return Mono.from(c.createStatement(
                "INSERT INTO portcullis.signing_keys (kid, alg, public_jwk, private_jwk_enc, created_at)"
                    + " VALUES ($1, $2, $3, $4, $5)" + suffix)
            .bind("$1", key.kid())
            .bind("$2", key.algorithm().jws().getName())
            .bind("$3", key.publicJwk().toJSONString())
            .bind("$4", kek.encrypt(key.privateJwk().toJSONString(), key.kid()))
            .bind("$5", key.createdAt())
            .execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()));
  }

  private Instant now() {
    // PostgreSQL keeps microseconds: truncate so what we hold equals what we read back.
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private <T> Mono<T> withConnection(Function<Connection, Mono<T>> work) {
    return Mono.usingWhen(connectionFactory.create(), work, Connection::close);
  }
}

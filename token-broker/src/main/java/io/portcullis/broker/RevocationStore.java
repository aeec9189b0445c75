package io.portcullis.broker;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Writes revocations and pauses to PostgreSQL and announces each on channel {@code portcullis_revocations}, so every
 * {@link RevocationRegistry} (one per gateway instance) hears of it within milliseconds.
 *
 * <p>The row and the NOTIFY go in one transaction: PostgreSQL delivers the notification at commit, so a listener
 * never hears of a revocation it cannot also read back in a resync.
 */
public final class RevocationStore {

  private final ConnectionFactory connectionFactory;
  private final BrokerEventListener events;
  private final Clock clock;

  public RevocationStore(ConnectionFactory connectionFactory, BrokerEventListener events, Clock clock) {
    this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.events = Objects.requireNonNull(events, "events");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Revokes the token with this {@code jti} until {@code expiresAt} (its {@code exp}). Idempotent. */
  public Mono<Void> revoke(String jti, String clientId, Instant expiresAt) {
    Objects.requireNonNull(jti, "jti");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (jti.isEmpty() || jti.length() > 200) {
      throw new IllegalArgumentException("jti: length %s (expected: 1..200)".formatted(jti.length()));
    }
    return inTransaction(c -> Mono.from(c.createStatement(
                "INSERT INTO portcullis.revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)"
                    + " ON CONFLICT (jti) DO NOTHING")
            .bind("$1", jti).bind("$2", clientId).bind("$3", expiresAt).bind("$4", clock.instant())
            .execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()))
        .then(notify(c, RevocationNotice.revoked(jti, expiresAt))))
        .doOnSuccess(v -> events.onEvent(BrokerEvent.revoked(clock.instant(), clientId, jti)));
  }

  /** Pauses an app: its tokens are refused by every gateway and the broker issues no new ones. */
  public Mono<Void> pauseApp(String clientId, @Nullable String reason) {
    Objects.requireNonNull(clientId, "clientId");
    return inTransaction(c -> Mono.from(c.createStatement(
                "INSERT INTO portcullis.paused_apps (client_id, paused_at, reason) VALUES ($1, $2, $3)"
                    + " ON CONFLICT (client_id) DO UPDATE SET paused_at = EXCLUDED.paused_at, reason = EXCLUDED.reason")
            .bind("$1", clientId).bind("$2", clock.instant())
            .bind("$3", reason == null ? "" : reason)
            .execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()))
        .then(notify(c, RevocationNotice.paused(clientId))))
        .doOnSuccess(v -> events.onEvent(BrokerEvent.appPaused(clock.instant(), clientId, reason)));
  }

  public Mono<Void> resumeApp(String clientId) {
    Objects.requireNonNull(clientId, "clientId");
    return inTransaction(c -> Mono.from(c.createStatement("DELETE FROM portcullis.paused_apps WHERE client_id = $1")
            .bind("$1", clientId)
            .execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()))
        .then(notify(c, RevocationNotice.resumed(clientId))))
        .doOnSuccess(v -> events.onEvent(BrokerEvent.appResumed(clock.instant(), clientId)));
  }

  /** Drops revocations of tokens that have expired anyway. */
  public Mono<Long> purgeExpired() {
    return Mono.usingWhen(connectionFactory.create(),
        c -> Mono.from(c.createStatement("DELETE FROM portcullis.revoked_tokens WHERE expires_at < $1")
                .bind("$1", clock.instant().minus(AccessTokenVerifier.SKEW))
                .execute())
            .flatMap(r -> Mono.from(r.getRowsUpdated())),
        Connection::close);
  }

  private static Mono<Void> notify(Connection c, RevocationNotice notice) {
    return Mono.defer(() -> Mono.from(c.createStatement("SELECT pg_notify($1, $2)")
            .bind("$1", RevocationNotice.CHANNEL)
            .bind("$2", notice.encode())
            .execute()))
        .flatMap(r -> Mono.from(r.map((row, meta) -> 1)).then())
        .then();
  }

  private Mono<Void> inTransaction(Function<Connection, Mono<Void>> work) {
    return Mono.usingWhen(connectionFactory.create(),
        c -> Mono.from(c.beginTransaction())
            .then(work.apply(c))
            .then(Mono.from(c.commitTransaction()))
            .onErrorResume(e -> Mono.from(c.rollbackTransaction()).then(Mono.error(e))),
        Connection::close);
  }
}

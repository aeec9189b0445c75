package io.portcullis.broker;

import io.r2dbc.postgresql.api.Notification;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The gateway's in-memory view of revoked token ids and paused apps (DESIGN.md §5: a revocation or pause reaches
 * every gateway within 1 s).
 *
 * <p>Fed two ways: {@code LISTEN portcullis_revocations} on a dedicated connection applies each change as it commits;
 * a full resync every {@code resyncPeriod} heals anything a dropped connection made us miss. The listening connection
 * is re-established with backoff when it closes, errors or stops answering a heartbeat. Lookups are lock-free map
 * reads; revoked ids are forgotten once their token has expired.
 */
public final class RevocationRegistry implements RevocationCheck, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RevocationRegistry.class);
  private static final Duration HEARTBEAT = Duration.ofSeconds(15);

  private final ConnectionFactory connectionFactory;
  private final Duration resyncPeriod;
  private final Clock clock;
  /** jti → exp epoch second. */
  private final ConcurrentHashMap<String, Long> revoked = new ConcurrentHashMap<>();
  private volatile Set<String> paused = Set.of();
  /** Bumped by every notification, so a resync that raced one does not overwrite it with older rows. */
  private final AtomicLong noticeSeq = new AtomicLong();
  private final Sinks.Empty<Void> ready = Sinks.empty();
  private final Disposable.Composite running = Disposables.composite();

  public RevocationRegistry(ConnectionFactory connectionFactory, Duration resyncPeriod, Clock clock) {
    this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.resyncPeriod = Objects.requireNonNull(resyncPeriod, "resyncPeriod");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (resyncPeriod.isNegative() || resyncPeriod.isZero()) {
      throw new IllegalArgumentException("resyncPeriod: %s (expected: > 0)".formatted(resyncPeriod));
    }
  }

  /**
   * Starts listening and resyncing in the background; the returned Mono completes once the first full sync is done
   * (callers may wait for it before serving traffic).
   */
  public Mono<Void> start() {
    synchronized (running) {
      if (running.size() == 0) {
        running.add(listenForever().subscribe());
        running.add(Flux.interval(resyncPeriod)
            .onBackpressureDrop()
            .concatMap(tick -> resync().onErrorResume(e -> {
              log.warn("revocation resync failed (will retry in {}): {}", resyncPeriod, e.toString());
              return Mono.empty();
            }))
            .subscribe());
      }
    }
    return ready.asMono();
  }

  @Override
  public boolean isRevoked(String jti) {
    return revoked.containsKey(jti);
  }

  @Override
  public boolean isPaused(String clientId) {
    return paused.contains(clientId);
  }

  /** Number of revoked, unexpired token ids held (metrics, tests). */
  public int revokedCount() {
    return revoked.size();
  }

  @Override
  public void close() {
    running.dispose();
  }

  private Mono<Void> listenForever() {
    return Mono.usingWhen(connectionFactory.create(), this::listenOn, Connection::close)
        // A normal completion means the server closed the session: listen again.
        .repeat()
        .then()
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100))
            .maxBackoff(Duration.ofSeconds(5))
            .doBeforeRetry(s -> log.warn("revocation LISTEN connection lost, reconnecting (attempt {}): {}",
                s.totalRetries() + 1, s.failure().toString())));
  }

  private Mono<Void> listenOn(Connection connection) {
    PostgresqlConnection pg = unwrap(connection);
    // Subscribe to notifications before LISTEN and resync after it: nothing committed in between is missed.
    Mono<Void> notifications = pg.getNotifications().doOnNext(this::apply).then();
    Mono<Void> listen = Mono.from(pg.createStatement("LISTEN " + RevocationNotice.CHANNEL).execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated()))
        .then(resync())
        .doOnSuccess(v -> ready.tryEmitEmpty());
    // A half-open TCP connection raises nothing: probe it, and reconnect when it stops answering.
    Mono<Void> heartbeat = Flux.interval(HEARTBEAT)
        .concatMap(t -> Mono.from(pg.validate(ValidationDepth.REMOTE)).timeout(Duration.ofSeconds(5)))
        .filter(ok -> !ok)
        .next()
        .flatMap(dead -> Mono.error(new IllegalStateException("LISTEN connection failed validation")));
    return Flux.merge(notifications, listen, heartbeat).then();
  }

  private static PostgresqlConnection unwrap(Connection connection) {
    Object c = connection;
    // r2dbc-pool hands out a wrapper; LISTEN needs the driver's connection underneath.
    while (!(c instanceof PostgresqlConnection) && c instanceof Wrapped<?> w) {
      c = w.unwrap();
    }
    if (c instanceof PostgresqlConnection pg) {
      return pg;
    }
    throw new IllegalStateException("revocation registry needs r2dbc-postgresql, got " + connection.getClass());
  }

  private void apply(Notification n) {
    RevocationNotice notice = RevocationNotice.decode(n.getParameter());
    if (notice == null) {
      return;
    }
    noticeSeq.incrementAndGet();
    switch (notice.kind()) {
      case 'R' -> revoked.put(notice.jti(), notice.expiresAt().getEpochSecond());
      case 'P' -> {
        synchronized (this) {
          Set<String> next = new HashSet<>(paused);
          next.add(notice.clientId());
          paused = Set.copyOf(next);
        }
      }
      case 'U' -> {
        synchronized (this) {
          Set<String> next = new HashSet<>(paused);
          next.remove(notice.clientId());
          paused = Set.copyOf(next);
        }
      }
      default -> { }
    }
  }

  /** Reads every unexpired revocation and every pause. */
  Mono<Void> resync() {
    return Mono.defer(() -> {
      long seqBefore = noticeSeq.get();
      Instant horizon = clock.instant().minus(AccessTokenVerifier.SKEW);
      Mono<Map<String, Long>> revokedRows = Mono.usingWhen(connectionFactory.create(),
          c -> Flux.from(c.createStatement(
                      "SELECT jti, expires_at FROM portcullis.revoked_tokens WHERE expires_at > $1")
                  .bind("$1", horizon)
                  .execute())
              .flatMap(r -> r.map((row, meta) -> Map.entry(
                  Objects.requireNonNull(row.get("jti", String.class)),
                  Objects.requireNonNull(row.get("expires_at", Instant.class)).getEpochSecond())))
              .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new),
          Connection::close);
      Mono<Set<String>> pausedRows = Mono.usingWhen(connectionFactory.create(),
          c -> Flux.from(c.createStatement("SELECT client_id FROM portcullis.paused_apps").execute())
              .flatMap(r -> r.map((row, meta) -> Objects.requireNonNull(row.get("client_id", String.class))))
              .collect(HashSet<String>::new, Set::add),
          Connection::close);
      return Mono.zip(revokedRows, pausedRows).doOnNext(rows -> {
        // Revocations are permanent until exp: union, never remove early.
        revoked.putAll(rows.getT1());
        long cutoff = horizon.getEpochSecond();
        revoked.values().removeIf(exp -> exp < cutoff);
        synchronized (this) {
          if (noticeSeq.get() == seqBefore) {
            paused = Set.copyOf(rows.getT2());
          }
          // else: a notification landed while we read; our rows may predate it. The next resync settles it.
        }
      }).then();
    });
  }
}

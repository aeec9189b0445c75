package io.portcullis.gateway.config;

import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.config.PolicyConfigException;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Keeps this instance on the newest config version: {@code LISTEN portcullis_config} applies a change as soon as it
 * commits on any instance, and a periodic check heals a missed notification. The new snapshot is compiled off the
 * event loop and swapped in atomically; requests in flight finish on the snapshot they started with.
 */
final class ConfigReloader implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final ConnectionFactory connections;
  private final ConfigStore store;
  private final PolicyCompilerService compiler;
  private final SnapshotHolder holder;
  private final Duration resync;
  private final Disposable.Composite running = Disposables.composite();
  private volatile boolean started;

  ConfigReloader(ConnectionFactory connections, ConfigStore store, PolicyCompilerService compiler,
      SnapshotHolder holder, Duration resync) {
    this.connections = connections;
    this.store = store;
    this.compiler = compiler;
    this.holder = holder;
    this.resync = resync;
  }

  @Override
  public void start() {
    running.add(Mono.usingWhen(connections.create(), this::listenOn, Connection::close)
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(5))
            .doBeforeRetry(s -> log.warn("config LISTEN connection lost, reconnecting: {}", s.failure().toString())))
        .subscribe());
    running.add(Flux.interval(resync, resync).onBackpressureDrop()
        .concatMap(t -> reload().onErrorResume(e -> {
          log.warn("config resync failed: {}", e.toString());
          return Mono.empty();
        }))
        .subscribe());
    started = true;
  }

  private Mono<Void> listenOn(Connection connection) {
    PostgresqlConnection pg = unwrap(connection);
    Mono<Void> notifications = pg.getNotifications().concatMap(n -> reload()).then();
    Mono<Void> listen = Mono.from(pg.createStatement("LISTEN " + ConfigStore.CHANNEL).execute())
        .flatMap(r -> Mono.from(r.getRowsUpdated())).then(reload());
    return Mono.when(notifications, listen)
        .then(Mono.error(new IllegalStateException("config notification stream ended")));
  }

  /** Loads the newest stored version and installs it if it is newer than the one serving. */
  Mono<Void> reload() {
    return store.latest()
        .filter(stored -> stored.version() > holder.current().version())
        .publishOn(Schedulers.boundedElastic())
        .doOnNext(stored -> {
          try {
            PolicySnapshot next = compiler.compile(stored);
            if (holder.install(next)) {
              log.info("Config version {} applied ({}: {})", stored.version(), stored.author(), stored.reason());
            }
          } catch (PolicyConfigException e) {
            // Stored versions were compiled before they were stored; this one was written around the admin API.
            log.error("Config version {} does not compile; staying on version {}: {}", stored.version(),
                holder.current().version(), e.getMessage());
          }
        })
        .then();
  }

  private static PostgresqlConnection unwrap(Connection connection) {
    Connection c = connection;
    while (!(c instanceof PostgresqlConnection) && c instanceof Wrapped<?> w && w.unwrap() instanceof Connection inner) {
      c = inner;
    }
    if (c instanceof PostgresqlConnection pg) {
      return pg;
    }
    throw new IllegalStateException("LISTEN needs an r2dbc-postgresql connection, got " + connection.getClass());
  }

  @Override
  public void stop() {
    running.dispose();
    started = false;
  }

  @Override
  public boolean isRunning() {
    return started;
  }
}

package io.portcullis.gateway.connector.http;

import io.portcullis.gateway.config.SnapshotHolder;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.event.RefreshRoutesEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Makes Spring Cloud Gateway re-read {@link UpstreamRouteRepository} when the policy snapshot's version changes (a
 * config import, a reload from another instance). A cheap poll of one volatile field: the snapshot holder has no
 * listeners, and a route change within a second matches the config reload's own promise.
 */
final class UpstreamRouteRefresher implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(UpstreamRouteRefresher.class);

  private final SnapshotHolder snapshots;
  private final ApplicationEventPublisher events;
  private final Duration interval;
  private volatile long published;
  private volatile Disposable running;

  UpstreamRouteRefresher(SnapshotHolder snapshots, ApplicationEventPublisher events, Duration interval) {
    this.snapshots = snapshots;
    this.events = events;
    this.interval = interval;
  }

  @Override
  public void start() {
    published = snapshots.current().version();
    running = Flux.interval(interval, interval).onBackpressureDrop().subscribe(tick -> {
      try {
        check();
      } catch (RuntimeException e) { // a failed refresh must not end the polling: the next tick retries
        published = Long.MIN_VALUE;
        log.warn("upstream route refresh failed: {}", e.toString());
      }
    });
  }

  void check() {
    long version = snapshots.current().version();
    if (version != published) {
      published = version;
      log.debug("config version {}: refreshing upstream routes", version);
      events.publishEvent(new RefreshRoutesEvent(this));
    }
  }

  @Override
  public void stop() {
    Disposable d = running;
    if (d != null) {
      d.dispose();
      running = null;
    }
  }

  @Override
  public boolean isRunning() {
    return running != null;
  }
}

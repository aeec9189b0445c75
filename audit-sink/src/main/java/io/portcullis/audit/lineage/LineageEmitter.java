package io.portcullis.audit.lineage;

import io.openlineage.client.OpenLineage;
import io.openlineage.client.OpenLineageClientUtils;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Every {@code interval}, drains the closed minutes of a {@link LineageAggregator} and sends their run events, in
 * order, through a {@link LineageTransport} (each retried 3 times with back-off, then logged and dropped: lineage is
 * derived data, the audit events stay the record). {@link #close} sends what is left, the open minute included.
 */
public final class LineageEmitter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LineageEmitter.class);

  private final LineageAggregator aggregator;
  private final LineageTransport transport;
  private final Duration interval;
  private final Clock clock;
  private volatile Disposable ticks;

  public LineageEmitter(LineageAggregator aggregator, LineageTransport transport, Duration interval, Clock clock) {
    this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
    this.transport = Objects.requireNonNull(transport, "transport");
    this.interval = Objects.requireNonNull(interval, "interval");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
    }
  }

  public void start() {
    ticks = Flux.interval(interval, interval, Schedulers.parallel())
        .onBackpressureDrop()
        .concatMap(t -> send(aggregator.drain(clock.instant())), 1)
        .subscribe();
  }

  /** Sends every count so far, the open minute included; completes with the number of events sent. */
  public Mono<Integer> flushAll() {
    return Mono.defer(() -> send(aggregator.drainAll()));
  }

  private Mono<Integer> send(List<OpenLineage.RunEvent> events) {
    return Flux.fromIterable(events)
        .concatMap(e -> {
          String job = e.getJob().getNamespace() + "/" + e.getJob().getName();
          return transport.send(job, OpenLineageClientUtils.toJson(e))
              .retryWhen(Retry.backoff(3, Duration.ofMillis(200)))
              .thenReturn(1)
              .onErrorResume(err -> {
                log.warn("lineage run {} of {} not sent to {}: {}", e.getRun().getRunId(), job, transport.name(),
                    err.toString());
                return Mono.just(0);
              });
        })
        .reduce(0, Integer::sum);
  }

  /** Stops the ticks and sends what is left (blocking, up to 10 s: call at shutdown). */
  @Override
  public void close() {
    Disposable d = ticks;
    if (d != null) {
      d.dispose();
    }
    try {
      flushAll().block(Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      log.warn("lineage: final flush to {} failed: {}", transport.name(), e.toString());
    } finally {
      transport.close();
    }
  }
}

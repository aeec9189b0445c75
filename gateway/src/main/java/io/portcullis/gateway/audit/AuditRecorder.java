package io.portcullis.gateway.audit;

import io.netty.channel.EventLoop;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import io.portcullis.audit.lineage.LineageAggregator;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.model.App;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;

/**
 * Turns a finished request into its one audit event (DESIGN.md §7) and hands it to the pipeline without blocking.
 * Only fingerprints of the row filter and query go in: never a token, a secret or a masked value.
 */
public final class AuditRecorder {

  private static final Logger log = LoggerFactory.getLogger(AuditRecorder.class);

  private final AuditPipeline pipeline;
  private final SnapshotHolder snapshots;
  private final @Nullable LineageAggregator lineage;
  private final boolean enabled;
  private final @Nullable RequestMetrics metrics;

  public AuditRecorder(AuditPipeline pipeline, SnapshotHolder snapshots, @Nullable LineageAggregator lineage) {
    this(pipeline, snapshots, lineage, true, null);
  }

  /** @param enabled false only with {@code portcullis.audit.sink=none} under the bench profile (see AuditWiring) */
  AuditRecorder(AuditPipeline pipeline, SnapshotHolder snapshots, @Nullable LineageAggregator lineage,
      boolean enabled, @Nullable RequestMetrics metrics) {
    this.pipeline = pipeline;
    this.snapshots = snapshots;
    this.lineage = lineage;
    this.enabled = enabled;
    this.metrics = metrics;
  }

  /** False only in an audit-off benchmark: then requests build no event and their responses wait for nothing. */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Records the event of a request whose response is complete but for its last bytes, and completes once the event
   * is in the write-ahead journal: a response the client sees answered then always has its event, even if this
   * process is killed right after. Tier-2 events are also pushed to the sink at once. Never errors: a journal that
   * cannot be written is logged and makes the gate refuse tier 2 (the event still goes on to the sink).
   * {@code cancelled}: the client had already hung up, so it did not get the whole answer.
   */
  public Mono<Void> recordBeforeCompletion(ServerWebExchange exchange, RequestContext ctx, int status,
      @Nullable ProblemException problem, boolean cancelled) {
    if (!enabled) {
      return Mono.empty();
    }
    AuditEvent event = event(exchange, ctx, status, problem, cancelled);
    counted(event);
    if (lineage != null) {
      lineage.record(event);
    }
    Mono<Void> journaled = pipeline.journaled(event, AuditGate.needsDurable(event.tier()))
        .onErrorResume(e -> {
          log.warn("audit event of request {} not journaled: {}", event.requestId(), e.toString());
          return Mono.empty();
        });
    EventLoop loop = eventLoop(exchange);
    return loop == null || loop.inEventLoop() ? journaled : journaled.then(continueOn(loop));
  }

  /**
   * The held last bytes go out from the event loop of the request's connection. The event is often journaled on
   * another thread (the upstream connection's loop, where its response ended), and a write from there would become a
   * task queued to this loop anyway, with its own flush: one hop for the rest of the response costs less (measured:
   * socket writes per request +60 % without it, load-tests/RESULTS.md 2026-12-06).
   */
  private static Mono<Void> continueOn(EventLoop loop) {
    return Mono.create(sink -> {
      try {
        loop.execute(sink::success);
      } catch (RejectedExecutionException shuttingDown) {
        sink.success();
      }
    });
  }

  private static @Nullable EventLoop eventLoop(ServerWebExchange exchange) {
    try {
      return ServerHttpRequestDecorator.getNativeRequest(exchange.getRequest()) instanceof Connection c
          ? c.channel().eventLoop() : null;
    } catch (IllegalArgumentException | IllegalStateException notNetty) {
      return null;
    }
  }

  /** Records the event of a request that ended without completing a response (cancelled, or failed mid-body). */
  public void record(ServerWebExchange exchange, RequestContext ctx, int status, @Nullable ProblemException problem,
      boolean cancelled) {
    if (!enabled) {
      return;
    }
    AuditEvent event = event(exchange, ctx, status, problem, cancelled);
    counted(event);
    if (AuditGate.needsDurable(event.tier())) {
      // the response is already on its way; what durable() adds is the fast path out of the batch wait and a
      // logged failure when the event is only held in memory (the gate then refuses further tier-2 requests)
      pipeline.durable(event).subscribe(null, e -> log.warn("audit event of tier-2 request {} not yet durable: {}",
          event.requestId(), e.toString()));
    } else {
      pipeline.emit(event);
    }
    if (lineage != null) {
      lineage.record(event);
    }
  }

  /**
   * A request refused by the HTTP decoder before it became an exchange (its header section passed the server's hard
   * ceiling): no path, no token — who sent it and what they were told.
   */
  public void recordUndecoded(String requestId, String clientIp, int status, String errorCode) {
    if (!enabled) {
      return;
    }
    AuditEvent event = AuditEvent.builder()
        .timestamp(Instant.now())
        .eventType(EventType.REQUEST)
        .requestId(requestId)
        .resourceType("request")
        .outcome(outcome(status, false, false))
        .status(status)
        .errorCode(errorCode)
        .clientIp(clientIp)
        .build();
    counted(event);
    pipeline.emit(event);
  }

  private void counted(AuditEvent event) {
    if (metrics != null) {
      metrics.count(event);
    }
  }

  AuditEvent event(ServerWebExchange exchange, RequestContext ctx, int status, @Nullable ProblemException problem,
      boolean cancelled) {
    TokenClaims claims = ctx.claims();
    Decision decision = ctx.decision();
    AuditEvent.Builder b = AuditEvent.builder() // event id: the builder's UUIDv7, no SecureRandom on the event loop
        .timestamp(Instant.now())
        .eventType(EventType.REQUEST)
        .requestId(ctx.requestId())
        .action(ctx.action() == null ? exchange.getRequest().getMethod().name().toLowerCase(Locale.ROOT)
            : ctx.action().scopeSuffix())
        .resourceType("dataset")
        .resourceId(ctx.dataset() == null ? exchange.getRequest().getPath().value() : ctx.dataset())
        .outcome(outcome(status, problem != null, cancelled))
        .status(status)
        .rows(ctx.rows())
        .bytes(ctx.bytes())
        .costUnits(ctx.costUnits())
        .latencyMs((System.nanoTime() - ctx.startNanos()) / 1_000_000.0)
        .clientIp(ctx.clientIp());
    if (problem != null) {
      b.errorCode(problem.code().code());
    }
    if (claims != null) {
      b.actorId(claims.subject()).appId(claims.clientId()).tier(claims.tier()).tokenId(claims.jti())
          .actorRole(claims.subject().equals(claims.clientId()) ? "app" : "user");
      App app = snapshots.current().app(claims.clientId());
      if (app != null) {
        b.costCenter(app.costCenter());
      }
    }
    if (decision != null) {
      b.policyIds(decision.policyIds()).policyVersion(decision.configVersion());
      if (!decision.rowFilter().isEmpty()) {
        b.rowFilter(decision.rowFilter().fingerprint());
      }
      if (decision.allowed()) {
        b.maskedColumns(new ArrayList<>(decision.columns().maskedColumns()));
      }
    }
    if (ctx.queryFingerprint() != null) {
      b.queryFingerprint(ctx.queryFingerprint());
    }
    return b.build();
  }

  /** @param failed a problem ended the request: with a 2xx status, the answer had started and was cut by it */
  static Outcome outcome(int status, boolean failed, boolean cancelled) {
    if (cancelled) {
      return Outcome.CANCELLED;
    }
    if (failed && status < 400) {
      return Outcome.ERROR;
    }
    if (status == 401 || status == 403) {
      return Outcome.DENIED;
    }
    if (status == 429) {
      return Outcome.THROTTLED;
    }
    return status < 400 ? Outcome.ALLOWED : Outcome.ERROR;
  }

}

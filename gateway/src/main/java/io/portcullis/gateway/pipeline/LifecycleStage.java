package io.portcullis.gateway.pipeline;

import io.portcullis.gateway.audit.AuditRecorder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.gateway.problem.ProblemResponder;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * The outermost stage: gives each request its id, turns any failure of the inner stages into the problem response
 * (so this stage sees the status the client sees), and records exactly one audit event when the exchange ends —
 * allowed, denied, throttled, failed or cancelled by the client.
 */
@Component
final class LifecycleStage implements WebFilter, Ordered {

  static final String REQUEST_ID_HEADER = "Portcullis-Request-Id";

  private final ProblemResponder problems;
  private final AuditRecorder audit;
  private final GovernedPaths paths;
  private final long maxHeaderBytes;
  private final ProblemException headersTooLarge;

  LifecycleStage(ProblemResponder problems, AuditRecorder audit, GovernedPaths paths, RequestLimits limits) {
    this.problems = problems;
    this.audit = audit;
    this.paths = paths;
    this.maxHeaderBytes = limits.maxHeaderSize().toBytes();
    this.headersTooLarge = new ProblemException(ProblemCode.HEADERS_TOO_LARGE,
        "the request's header fields exceed " + maxHeaderBytes + " bytes in total");
  }

  @Override
  public int getOrder() {
    return StageOrder.LIFECYCLE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    // Oversized headers are refused before any stage runs (no token is parsed or verified for them), on every path.
    boolean oversized = HeaderSize.of(exchange.getRequest()) > maxHeaderBytes;
    if (!oversized && !paths.isAudited(exchange)) {
      return chain.filter(exchange);
    }
    String requestId = newRequestId();
    RequestContext ctx = RequestContext.attach(exchange, requestId, clientIp(exchange));
    exchange.getResponse().getHeaders().set(REQUEST_ID_HEADER, requestId);
    ProblemException[] failure = new ProblemException[1];
    if (!audit.enabled()) { // an audit-off benchmark: the request path without any audit work
      return (oversized ? Mono.<Void>error(headersTooLarge) : chain.filter(exchange)).onErrorResume(error ->
          hungUp(exchange) ? Mono.empty() : problems.write(exchange, problems.classify(error), requestId));
    }
    boolean[] clientGone = new boolean[1];
    ServerWebExchange[] audited = new ServerWebExchange[1];
    AuditedResponse response = new AuditedResponse(exchange.getResponse(), () -> {
      if (!ctx.claimAudit()) {
        return Mono.empty();
      }
      ctx.runBeforeAudit();
      // A client that hung up mid-answer can still end here: the routing filter disposes the upstream connection,
      // and an upstream body cut that way ends like a complete one. Only our side of the connection tells.
      boolean gone = ClientConnection.gone(exchange);
      return audit.recordBeforeCompletion(audited[0], ctx, status(exchange), gone ? null : failure[0], gone);
    });
    audited[0] = exchange.mutate().response(response).build();
    return (oversized ? Mono.<Void>error(headersTooLarge) : chain.filter(audited[0]))
        .onErrorResume(error -> {
          if (hungUp(exchange)) {
            // the client left while its answer was being written: no problem to send, and nobody failed
            clientGone[0] = true;
            return Mono.empty();
          }
          ProblemException problem = problems.classify(error);
          failure[0] = problem;
          return problems.write(audited[0], problem, requestId);
        })
        .doFinally(signal -> {
          // only when no response completed through the decorator: cancelled, failed mid-body, or no body written
          if (ctx.claimAudit()) {
            // a body that began, never reached its last buffer and did not fail: the client hung up under a blocked send
            boolean cut = response.bodyStarted() && failure[0] == null;
            audit.record(audited[0], ctx, status(exchange), failure[0],
                signal == SignalType.CANCEL || clientGone[0] || cut);
          }
        });
  }

  /** The answer had started and the client's connection is closed: whatever failed, it was the client leaving. */
  private static boolean hungUp(ServerWebExchange exchange) {
    return exchange.getResponse().isCommitted() && ClientConnection.gone(exchange);
  }

  private static int status(ServerWebExchange exchange) {
    HttpStatusCode status = exchange.getResponse().getStatusCode();
    return status == null ? 200 : status.value();
  }

  private static String clientIp(ServerWebExchange exchange) {
    @Nullable InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
    return remote == null || remote.getAddress() == null ? "unknown" : remote.getAddress().getHostAddress();
  }

  private static final HexFormat HEX = HexFormat.of();

  /** 128 random bits as 32 hex digits: unique enough for correlation, cheaper than SecureRandom-backed UUIDs. */
  static String newRequestId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return HEX.toHexDigits(r.nextLong()) + HEX.toHexDigits(r.nextLong());
  }
}

package io.portcullis.gateway.connector.http;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.HttpSource;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.NettyWriteResponseFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;
import reactor.netty.Connection;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.PrematureCloseException;
import reactor.util.retry.Retry;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP upstream connector (DESIGN.md §1 stage 4): runs around Spring Cloud Gateway's call to the upstream and
 * its response writer, after the token, policy and quota stages have passed the request. It
 * <ul>
 *   <li>refuses a request the policy stage did not allow for the dataset behind this route (fail closed even if the
 *       route table and the governed paths ever disagree);</li>
 *   <li>keeps the caller's credentials and cookies away from the third party and asks for an unencoded body;</li>
 *   <li>guards the call with the route's circuit breaker, retries idempotent reads after connection failures and
 *       502/503/504, and bounds the wait by the route's timeout;</li>
 *   <li>filters and masks the JSON body as it streams ({@link RowStreamFilter}); an upstream error status becomes
 *       {@code upstream_unavailable} and the upstream's body and headers never reach the client.</li>
 * </ul>
 * Ordered just outside {@link NettyWriteResponseFilter}, so its response decorator sees the body being written, as
 * Spring Cloud Gateway's own {@code ModifyResponseBody} filter does.
 */
final class GovernedUpstreamFilter implements GlobalFilter, Ordered {

  private static final Logger log = LoggerFactory.getLogger(GovernedUpstreamFilter.class);

  static final int ORDER = NettyWriteResponseFilter.WRITE_RESPONSE_FILTER_ORDER - 1;
  static final String MASKED_HEADER = "Portcullis-Masked";

  private final JsonMapper json;
  /** Enough for a pool whose idle connections the upstream closed all at once; each retry takes a fresh one. */
  static final int STALE_CONNECTION_RETRIES = 3;

  private final CircuitBreakerRegistry breakers;
  private final HttpUpstreamProperties properties;
  private final Map<String, String> openHeaders;
  private final Map<String, String> retryHeaders = Map.of(HttpHeaders.RETRY_AFTER, "5");

  GovernedUpstreamFilter(JsonMapper json, CircuitBreakerRegistry breakers, HttpUpstreamProperties properties) {
    this.json = json;
    this.breakers = breakers;
    this.properties = properties;
    this.openHeaders = Map.of(HttpHeaders.RETRY_AFTER,
        String.valueOf(Math.max(1, (properties.openFor().toMillis() + 999) / 1000)));
  }

  @Override
  public int getOrder() {
    return ORDER;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
    Object id = route == null ? null : route.getMetadata().get(UpstreamRouteRepository.ROUTE_ID);
    if (!(id instanceof String routeId)) {
      // every route comes from UpstreamRouteRepository; one that did not was never governed
      return Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no such resource"));
    }
    RequestContext ctx = RequestContext.of(exchange);
    Decision decision = ctx.decision();
    Dataset dataset = ctx.datasetModel();
    if (decision == null || !decision.allowed() || dataset == null
        || !(dataset.source() instanceof HttpSource source) || !source.route().equals(routeId)) {
      return Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no governed dataset is served here"));
    }
    ServerHttpRequest request = exchange.getRequest();
    if (unsafePath(request.getPath().value(), route.getMetadata().get(UpstreamRouteRepository.PREFIX))) {
      return Mono.error(new ProblemException(ProblemCode.INVALID_QUERY,
          "encoded separators, dot segments and path parameters are not allowed on upstream routes"));
    }
    HttpMethod method = request.getMethod();
    boolean idempotentRead = HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method);

    ServerHttpRequest.Builder upstream = request.mutate();
    URI pushed = pushRowFilter(request.getURI(), route.getMetadata().get(UpstreamRouteRepository.FILTER_PARAMS),
        decision.rowFilter().equalities());
    if (pushed != null) {
      upstream.uri(pushed);
    }
    ServerHttpRequest upstreamRequest = upstream.headers(h -> {
      h.remove(HttpHeaders.AUTHORIZATION); // our access token means nothing to the third party
      h.remove(HttpHeaders.COOKIE);
      h.remove(HttpHeaders.PROXY_AUTHORIZATION);
      h.set(HttpHeaders.ACCEPT_ENCODING, "identity"); // the filter parses the body: no gzip
    }).build();
    ServerHttpResponse response = exchange.getResponse();
    Duration readTimeout = readTimeout(route);
    BodyPlan plan = new BodyPlan(source.rowsPointer(), decision, declared(dataset), decision.columns().maskedList(), ctx);

    Mono<Void> call = Mono.defer(() -> {
      FilteringResponse answer = new FilteringResponse(exchange, plan,
          idempotentRead && HttpMethod.GET.equals(method));
      Mono<Void> attempt = chain.filter(exchange.mutate().request(upstreamRequest).response(answer).build())
          .contextWrite(c -> c.put(UpstreamReadTimeout.CONTEXT_KEY, readTimeout));
      // A reset before the upstream's status line: the upstream was closing that idle connection as our request
      // arrived (seen under load: "Connection reset by peer, the request cannot be retried as the headers/body were
      // sent", which Reactor Netty does not retry and the breaker counted). For a read, a stale connection like any.
      return idempotentRead
          ? attempt.onErrorMap(e -> !answer.started && connectionReset(e), StaleConnection::reset)
          : attempt;
    });
    if (idempotentRead) {
      // A pooled keep-alive connection the upstream closed as we reused it: before the request was written, or after
      // it was written but before the upstream read it (it was closing that idle connection). A fresh connection is
      // the whole remedy: no backoff, and not the operator's `retries` budget (which is for the upstream's own
      // failures). Inside the breaker, so the breaker sees the outcome after these retries: a stale connection
      // replaced is a success, an upstream that keeps closing fresh connections too is one failure per request.
      call = call.retryWhen(Retry.max(STALE_CONNECTION_RETRIES)
          .filter(e -> !response.isCommitted() && (e instanceof StaleConnection || staleConnection(e)))
          .doBeforeRetry(signal -> {
            // debug only: expected now and then; load-tests/keepalive-race.sh counts these to compare pool settings
            log.debug("route {}: pooled connection closed by the upstream ({}); retrying on a fresh one",
                routeId, signal.failure().getMessage());
            restoreHeaders(exchange);
            ServerWebExchangeUtils.reset(exchange);
          })
          .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    }
    // A client that hangs up while its answer is being written fails the write from inside this chain (Reactor
    // Netty's AbortedException on our own server connection). That says nothing about the upstream: when a wrk run
    // ended with 32 requests in flight, these were counted as upstream failures and opened the breaker against a
    // healthy upstream, and the next run got fast 503s (load-tests/RESULTS.md, "closed BEFORE send" rounds).
    call = call.onErrorMap(e -> response.isCommitted() && clientGone(e), ClientGone::new)
        .transformDeferred(CircuitBreakerOperator.of(breakers.circuitBreaker(routeId)));
    if (idempotentRead && properties.retries() > 0) {
      call = call.retryWhen(Retry.backoff(properties.retries(), properties.retryBackoff())
          .filter(e -> !response.isCommitted() && retriable(e))
          .doBeforeRetry(signal -> {
            restoreHeaders(exchange); // the failed attempt's Content-Type must not be read as the next one's
            ServerWebExchangeUtils.reset(exchange);
          })
          .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    }
    return call.onErrorMap(e -> !(e instanceof ProblemException), e -> toProblem(e, routeId))
        .doOnError(e -> restoreHeaders(exchange));
  }

  /**
   * The request URI with the row filter's equalities on the route's declared columns as query parameters, each
   * replacing whatever the client sent under that name (compared decoded and case-insensitively, so {@code Own%65r=}
   * cannot slip past); null when nothing is pushed. The upstream's filtering only saves transfer: the body is still
   * filtered row by row.
   */
  static @Nullable URI pushRowFilter(URI uri, @Nullable Object declared, Map<String, Object> equalities) {
    if (!(declared instanceof Map<?, ?> params) || params.isEmpty() || equalities.isEmpty()) {
      return null;
    }
    Map<String, String> push = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : params.entrySet()) {
      Object value = equalities.get(String.valueOf(e.getKey()));
      if (value != null) {
        push.put(String.valueOf(e.getValue()), String.valueOf(value));
      }
    }
    if (push.isEmpty()) {
      return null;
    }
    Set<String> replaced = new HashSet<>();
    push.keySet().forEach(name -> replaced.add(name.toLowerCase(Locale.ROOT)));
    StringBuilder query = new StringBuilder();
    String raw = uri.getRawQuery();
    if (raw != null && !raw.isEmpty()) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        String name = eq < 0 ? pair : pair.substring(0, eq);
        String decoded;
        try {
          decoded = URLDecoder.decode(name, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
          continue; // a name we cannot read might be one the upstream reads as ours: drop it
        }
        if (pair.isEmpty() || replaced.contains(decoded.trim().toLowerCase(Locale.ROOT))) {
          continue;
        }
        query.append(query.isEmpty() ? "" : "&").append(pair);
      }
    }
    push.forEach((name, value) -> query.append(query.isEmpty() ? "" : "&").append(encode(name)).append('=')
        .append(encode(value)));
    StringBuilder u = new StringBuilder();
    u.append(uri.getScheme()).append("://").append(uri.getRawAuthority()).append(uri.getRawPath()).append('?')
        .append(query);
    return URI.create(u.toString());
  }

  private static String encode(String s) {
    // form encoding writes a space as '+', which some upstreams read literally
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** What the body filter needs, resolved once per request. */
  private record BodyPlan(String rowsPointer, Decision decision, Set<String> declared, @Nullable String maskedHeader,
      RequestContext ctx) {
  }

  /** A dataset's declared column names, kept per dataset model (a reload brings new models, hence new sets). */
  private record Declared(Dataset dataset, Set<String> names) {
  }

  private final Map<String, Declared> declared = new ConcurrentHashMap<>();

  private Set<String> declared(Dataset dataset) {
    Declared d = declared.get(dataset.name());
    if (d == null || d.dataset() != dataset) {
      Set<String> names = new HashSet<>();
      for (Column c : dataset.columns()) {
        names.add(c.name());
      }
      d = new Declared(dataset, Set.copyOf(names));
      declared.put(dataset.name(), d);
    }
    return d.names();
  }

  /**
   * Paths the upstream might resolve outside the route's base path, or read differently than our {@code Path}
   * predicate did: a prefix not spelled literally, percent-encoded dots, slashes or backslashes, dot segments, and
   * matrix parameters.
   */
  static boolean unsafePath(String rawPath, @Nullable Object prefix) {
    // the prefix spelled differently (/%63rm) matches the Path predicate but not the rewrite: it would reach the
    // upstream host outside the route's base path
    if (!(prefix instanceof String pre) || !(rawPath.equals(pre) || rawPath.startsWith(pre + "/"))) {
      return true;
    }
    String p = rawPath.toLowerCase(Locale.ROOT);
    return p.contains("%2e") || p.contains("%2f") || p.contains("%5c") || p.indexOf('\\') >= 0 || p.indexOf(';') >= 0
        || p.contains("/../") || p.endsWith("/..") || p.contains("/./") || p.endsWith("/.");
  }

  /** The route's timeout (built once per route), as the bound on the upstream's silence while its answer is read. */
  private static Duration readTimeout(Route route) {
    return route.getMetadata().get(UpstreamRouteRepository.READ_TIMEOUT) instanceof Duration d
        ? d
        : DEFAULT_READ_TIMEOUT;
  }

  private static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

  /** Worth another attempt: nothing reached the client and the upstream may answer differently next time. */
  private static boolean retriable(Throwable e) {
    if (e instanceof StaleConnection) {
      return true;
    }
    if (e instanceof UpstreamFailure f) {
      return f.kind() == UpstreamFailure.Kind.STATUS && (f.status() == 502 || f.status() == 503 || f.status() == 504);
    }
    return isTransport(e) && !isTimeout(e);
  }

  /** Whether a failure counts against the route's circuit breaker: everything but the upstream's own 4xx answers. */
  static boolean recordedByBreaker(Throwable e) {
    if (e instanceof UpstreamFailure f && f.kind() == UpstreamFailure.Kind.STATUS) {
      return f.status() >= 500 || f.status() < 400;
    }
    // a stale pooled connection says nothing about the upstream's health: under load with keep-alive, counting these
    // opened the breaker against a healthy upstream (load-tests/RESULTS.md, first harness run)
    return !(e instanceof ProblemException) && !(e instanceof ClientGone) && !closedBeforeSend(e);
  }

  /** Reactor Netty's abort of a connection being written to; on a committed answer, our client's connection. */
  private static boolean clientGone(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AbortedException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** The client closed its connection while its answer was being written: not a failure of the upstream. */
  static final class ClientGone extends RuntimeException {

    private static final long serialVersionUID = 1L;

    ClientGone(Throwable cause) {
      super("the client closed the connection during the answer", cause, false, false);
    }
  }

  /**
   * A reused connection the upstream had closed: before or while the request was written, or before any byte of the
   * answer (the upstream closed it as idle while our request was on its way; for a read, nothing happened upstream).
   */
  static boolean staleConnection(Throwable e) {
    if (closedBeforeSend(e)) {
      return true;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PrematureCloseException && t.getMessage() != null
          && t.getMessage().contains("BEFORE response")) {
        return true;
      }
      // closed while the request was being written (seen under load with an upstream closing idle connections)
      if (t instanceof AbortedException && t.getCause() instanceof ClosedChannelException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** A connection reset (RST) anywhere in the cause chain, as Reactor Netty recognises one. */
  private static boolean connectionReset(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (!(t instanceof AbortedException) && AbortedException.isConnectionReset(t)) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /**
   * A pooled connection the upstream closed before any byte of its answer's body, on a read: retried on a fresh
   * connection like {@link #staleConnection}; after the retries, {@code upstream_unavailable}.
   */
  static final class StaleConnection extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private StaleConnection(String message, @Nullable Throwable cause) {
      super(message, cause, false, false);
    }

    static StaleConnection reset(Throwable cause) {
      return new StaleConnection("the upstream reset the connection before answering", cause);
    }

    static StaleConnection emptyBody() {
      return new StaleConnection("the upstream closed the connection before its answer's body", null);
    }
  }

  /** Reactor Netty's abort for a connection that closed before the request was written. */
  static boolean closedBeforeSend(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof AbortedException && t.getMessage() != null && t.getMessage().contains("BEFORE send")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static boolean isTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException || t instanceof io.netty.handler.timeout.TimeoutException) {
        return true;
      }
      if (t instanceof ResponseStatusException rse && rse.getStatusCode().value() == HttpStatus.GATEWAY_TIMEOUT.value()) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static boolean isTransport(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException || t instanceof io.netty.channel.ChannelException
          || t.getClass().getName().startsWith("reactor.netty.")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private Throwable toProblem(Throwable e, String routeId) {
    if (e instanceof ClientGone) {
      log.debug("route {}: {}", routeId, e.getMessage());
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, e.getMessage(), null, List.of(), retryHeaders);
    }
    if (e instanceof StaleConnection) {
      log.warn("route {}: {} (after {} attempts on fresh connections)", routeId, e.getMessage(),
          STALE_CONNECTION_RETRIES + 1);
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, e.getMessage(), null, List.of(), retryHeaders);
    }
    if (e instanceof CallNotPermittedException) {
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE,
          "the upstream is failing; calls are paused (circuit breaker open)", null, List.of(), openHeaders);
    }
    if (e instanceof UpstreamFailure f) {
      log.warn("route {}: {}", routeId, f.getMessage());
      String detail = f.kind() == UpstreamFailure.Kind.STATUS ? "the upstream answered with an error"
          : f.getMessage();
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, detail, null, List.of(), retryHeaders);
    }
    if (isTimeout(e)) {
      return new ProblemException(ProblemCode.UPSTREAM_TIMEOUT, "the upstream did not answer within the route's timeout",
          null, List.of(), retryHeaders);
    }
    if (isTransport(e)) {
      log.warn("route {}: upstream unreachable: {}", routeId, e.toString());
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "the upstream could not be reached",
          null, List.of(), retryHeaders);
    }
    if (e instanceof ResponseStatusException rse && rse.getStatusCode().is5xxServerError()) {
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "the upstream could not be reached",
          null, List.of(), retryHeaders);
    }
    return e; // not an upstream failure: a bug, left to the lifecycle stage (logged, internal_error)
  }

  /**
   * Drops what the upstream put in the response headers (before anything is sent). That is its Content-Type at most
   * ({@link UpstreamResponseHeaders}), which no stage sets before the upstream answers, so ours
   * (request id, rate limits) are untouched and need no copy to be put back. Also before each retry: the next
   * attempt's headers are added, not set.
   */
  private static void restoreHeaders(ServerWebExchange exchange) {
    ServerHttpResponse response = exchange.getResponse();
    if (response.isCommitted()) {
      return;
    }
    HttpHeaders headers = response.getHeaders();
    UpstreamResponseHeaders.KEPT.forEach(headers::remove);
    Set<String> added = exchange.getAttribute(ServerWebExchangeUtils.CLIENT_RESPONSE_HEADER_NAMES);
    if (added != null) {
      added.forEach(headers::remove);
    }
  }

  /** Replaces what Spring Cloud Gateway would copy from the upstream with the governed body. */
  private final class FilteringResponse extends ServerHttpResponseDecorator {

    private final ServerWebExchange exchange;
    private final BodyPlan plan;
    private final boolean filterBody;
    /** The upstream's status line and headers arrived (Spring Cloud Gateway writes the body through here). */
    volatile boolean started;

    FilteringResponse(ServerWebExchange exchange, BodyPlan plan, boolean filterBody) {
      super(exchange.getResponse());
      this.exchange = exchange;
      this.plan = plan;
      this.filterBody = filterBody;
    }

    @Override
    public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
      started = true;
      HttpStatusCode status = getDelegate().getStatusCode();
      if (status == null || !status.is2xxSuccessful()) {
        return Mono.error(UpstreamFailure.status(status));
      }
      boolean json = isJson(getHeaders());
      boolean declaredEmpty = "0".equals(exchange.getAttribute(UpstreamResponseHeaders.UPSTREAM_CONTENT_LENGTH));
      restoreHeaders(exchange);
      if (!filterBody) {
        // HEAD has no body; a write's response body is not relayed (it is not shaped as governed rows)
        return Flux.from(body).doOnNext(DataBufferUtils::release)
            .then(Mono.defer(() -> {
              getHeaders().setContentLength(0);
              return getDelegate().setComplete();
            }));
      }
      if (!json) {
        return Mono.error(UpstreamFailure.body("the upstream did not answer JSON"));
      }
      getHeaders().setContentType(MediaType.APPLICATION_JSON);
      if (plan.maskedHeader() != null) {
        getHeaders().set(MASKED_HEADER, plan.maskedHeader());
      }
      RowStreamFilter rows = new RowStreamFilter(json(), plan.rowsPointer(), plan.decision().columns(),
          plan.decision().rowFilter(), plan.declared(), properties.maxRowSize().toBytes(),
          properties.maxPrefixSize().toBytes(), size -> plan.ctx().addRow(size));
      byte[][] scratch = {new byte[8192]};
      long[] received = {0};
      // No idle timeout here: UpstreamReadTimeout sets the route's timeout as Reactor Netty's response timeout, a
      // read-timeout handler on the upstream connection until the response's last byte, so a body that stalls longer
      // fails as a timeout already. Flux.timeout per body chunk scheduled and cancelled a task on Reactor's parallel
      // scheduler for every chunk, waking its thread.
      Flux<DataBuffer> filtered = Flux.<DataBuffer>from(body)
          .handle((DataBuffer in, SynchronousSink<DataBuffer> sink) -> {
            byte[] produced;
            try {
              int n = in.readableByteCount();
              received[0] += n;
              if (scratch[0].length < n) {
                scratch[0] = new byte[Math.max(n, scratch[0].length * 2)];
              }
              in.read(scratch[0], 0, n);
              produced = rows.feed(scratch[0], 0, n);
            } finally {
              DataBufferUtils.release(in);
            }
            if (produced.length > 0) {
              sink.next(bufferFactory().wrap(produced));
            }
          })
          // A 2xx whose body ended before its first byte because the connection closed (not one declaring
          // Content-Length: 0): the pooled connection was being closed by the upstream as we reused it (seen under
          // load in StaleUpstreamConnectionTest as "the upstream body ended before its JSON did"). Nothing was
          // written yet, so for a read this is a stale connection to retry, not a broken answer.
          .concatWith(Mono.defer(() -> received[0] == 0 && !declaredEmpty && upstreamClosed()
              ? Mono.<DataBuffer>error(StaleConnection.emptyBody()) : Mono.<DataBuffer>empty()))
          .concatWith(Mono.fromSupplier(rows::finish).filter(b -> b.length > 0).map(b -> bufferFactory().wrap(b)))
          .doFinally(signal -> rows.close());
      return getDelegate().writeWith(filtered);
    }

    private boolean upstreamClosed() {
      Connection connection = exchange.getAttribute(ServerWebExchangeUtils.CLIENT_RESPONSE_CONN_ATTR);
      return connection == null || connection.isDisposed();
    }

    @Override
    public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
      started = true;
      // Spring Cloud Gateway streams event-stream and NDJSON answers this way: not a governed JSON body
      HttpStatusCode status = getDelegate().getStatusCode();
      return Mono.error(status == null || !status.is2xxSuccessful() ? UpstreamFailure.status(status)
          : UpstreamFailure.body("the upstream did not answer JSON"));
    }
  }

  private JsonMapper json() {
    return json;
  }

  private static boolean isJson(HttpHeaders headers) {
    MediaType type;
    try {
      type = headers.getContentType();
    } catch (InvalidMediaTypeException e) {
      return false;
    }
    if (type == null) {
      return true; // many APIs omit it; the parser decides
    }
    return MediaType.APPLICATION_JSON.isCompatibleWith(type) || type.getSubtype().endsWith("+json");
  }
}

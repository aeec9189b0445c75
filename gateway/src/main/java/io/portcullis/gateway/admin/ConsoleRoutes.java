package io.portcullis.gateway.admin;

import io.portcullis.broker.RevocationCheck;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.gateway.problem.ProblemResponder;
import io.portcullis.policy.TokenClaims;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The web console and live ops dashboard on the admin port: static pages from {@code classpath:console/}, the broker's
 * token endpoint on the same origin (so the console needs no CORS), the ops snapshot and its Server-Sent Events stream.
 *
 * <p>Why the console is CSRF-safe by construction: the admin API authenticates only with an {@code Authorization:
 * Bearer} header, which the console keeps in memory / sessionStorage and a browser never attaches on its own; no admin
 * endpoint reads a cookie. A cross-site page can neither set that header (no CORS is served, so the preflight fails)
 * nor read a response. The one thing a cross-site HTML form can send, a form or text/plain body, is refused with 415
 * on every state-changing admin endpoint before the token is looked at ({@link #securityFilter}).
 */
final class ConsoleRoutes {

  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  /** How often an open stream re-checks its token: pausing an app reaches every gateway within 1 s (DESIGN.md §5). */
  static final Duration REVOCATION_CHECK = Duration.ofMillis(500);
  private static final Set<HttpMethod> CHANGING = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH,
      HttpMethod.DELETE);
  /** The content types an HTML form (or a no-preflight fetch) can send cross-site. */
  private static final Set<String> FORM_TYPES = Set.of("application/x-www-form-urlencoded", "multipart/form-data",
      "text/plain");

  private final TokenBroker broker;
  private final OpsSnapshots snapshots;
  private final OpsTickets tickets;
  private final ProblemResponder problems;
  private final AdminAudit audit;
  private final Clock clock;
  private final Duration period;
  private final RevocationCheck revocations;

  ConsoleRoutes(TokenBroker broker, OpsSnapshots snapshots, OpsTickets tickets, ProblemResponder problems,
      AdminAudit audit, RevocationCheck revocations, Clock clock, Duration period) {
    this.broker = broker;
    this.snapshots = snapshots;
    this.tickets = tickets;
    this.problems = problems;
    this.audit = audit;
    this.clock = clock;
    this.period = period;
    this.revocations = revocations;
  }

  /** Routes that need no token: the pages, the token endpoint, and the stream (it redeems a ticket instead). */
  RouterFunction<ServerResponse> publicRoutes() {
    ClassPathResource index = new ClassPathResource("console/index.html");
    // a verifier-only gateway has no token endpoint: the console then takes a token obtained from the external broker
    RouterFunction<ServerResponse> tokenEndpoint = AdminActions.signsTokens(broker)
        ? broker.routes().routerFunction().filter((request, next) -> request.path().equals("/oauth2/token")
            ? next.handle(request) : ServerResponse.notFound().build())
        : request -> Mono.empty();
    return RouterFunctions.route()
        .GET("/", r -> ServerResponse.temporaryRedirect(URI.create("/console/")).build())
        .GET("/console", r -> ServerResponse.temporaryRedirect(URI.create("/console/")).build())
        .GET("/console/", r -> ServerResponse.ok().contentType(MediaType.TEXT_HTML).bodyValue(index))
        .GET("/admin/ops/stream", this::stream)
        .build()
        .and(RouterFunctions.resources("/console/**", new ClassPathResource("console/")))
        .and(tokenEndpoint);
  }

  /** Routes behind the admin bearer token. */
  RouterFunction<ServerResponse> adminRoutes(HandlerFilterFunction<ServerResponse, ServerResponse> adminOnly) {
    return RouterFunctions.route()
        .POST("/admin/ops/tickets", this::ticket)
        .GET("/admin/ops/snapshot", r -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
            .bodyValue(ConfigChanges.JSON.writeValueAsBytes(snapshots.sampler().next())))
        .filter(adminOnly)
        .build();
  }

  /** {@code POST /admin/ops/tickets}: a one-use ticket (60 s) that opens one ops stream. */
  Mono<ServerResponse> ticket(ServerRequest request) {
    TokenClaims admin = AdminRoutes.admin(request);
    String ticket = tickets.issue(admin.subject(), admin.jti(), admin.clientId(), admin.expiresAt());
    if (ticket == null) {
      return Mono.error(new ProblemException(ProblemCode.RATE_LIMITED, "too many unused ops stream tickets"));
    }
    audit.record(admin, "ops", "stream", "ops_stream_ticket", null);
    return ServerResponse.status(201).contentType(MediaType.APPLICATION_JSON).header(HttpHeaders.CACHE_CONTROL,
            "no-store")
        .bodyValue(ConfigChanges.JSON.writeValueAsBytes(Map.of("ticket", ticket, "expires_in",
            OpsTickets.TTL.toSeconds())));
  }

  /**
   * {@code GET /admin/ops/stream?ticket=…}: one JSON snapshot per period as {@code event: snapshot}, until the client
   * goes away or the admin token that bought the ticket expires; if that token is revoked or its app paused, a last
   * {@code event: end} ({@code {"reason":"token_revoked"|"app_paused"}}) and the stream completes.
   */
  Mono<ServerResponse> stream(ServerRequest request) {
    OpsTickets.Ticket ticket = tickets.redeem(request.queryParam("ticket").orElse(null));
    if (ticket == null) {
      return problems.write(request.exchange(), new ProblemException(ProblemCode.INVALID_TOKEN,
              "a fresh ticket from POST /admin/ops/tickets is required"), requestId())
          .then(Mono.empty());
    }
    Duration left = Duration.between(clock.instant(), ticket.tokenExpires());
    if (left.isNegative() || left.isZero()) {
      return problems.write(request.exchange(), new ProblemException(ProblemCode.TOKEN_EXPIRED,
          "the admin token behind this ticket has expired"), requestId()).then(Mono.empty());
    }
    OpsSnapshots.Sampler sampler = snapshots.sampler();
    Flux<ServerSentEvent<String>> snapshotEvents = Flux.interval(Duration.ZERO, period)
        .onBackpressureDrop()
        .map(i -> ServerSentEvent.builder(ConfigChanges.JSON.writeValueAsString(sampler.next()))
            .event("snapshot").id(Long.toString(i)).build());
    // the admin's token was checked once, when the ticket was bought: re-check it against the in-memory revocation
    // view while the stream is open, so revoking the token or pausing the admin app cuts a dashboard left open
    Flux<ServerSentEvent<String>> end = Flux.interval(REVOCATION_CHECK)
        .onBackpressureDrop()
        .mapNotNull(i -> endReason(ticket))
        .take(1)
        .map(code -> ServerSentEvent.builder("{\"reason\":\"" + code + "\"}").event("end").build());
    Flux<ServerSentEvent<String>> events = Flux.merge(snapshotEvents, end)
        .takeUntil(e -> "end".equals(e.event()))
        .take(left);
    return ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(BodyInserters.fromServerSentEvents(events));
  }

  /** Why the stream must end now ({@code token_revoked}, {@code app_paused}), or null while the token is live. */
  private @Nullable String endReason(OpsTickets.Ticket ticket) {
    if (revocations.isRevoked(ticket.tokenId())) {
      return ProblemCode.TOKEN_REVOKED.code();
    }
    return revocations.isPaused(ticket.clientId()) ? ProblemCode.APP_PAUSED.code() : null;
  }

  /**
   * Security headers on every admin-port response (pages, API and problems alike) and the 415 for form bodies on
   * state-changing admin endpoints.
   */
  WebFilter securityFilter() {
    return (ServerWebExchange exchange, WebFilterChain chain) -> {
      HttpHeaders h = exchange.getResponse().getHeaders();
      h.set("Content-Security-Policy", CSP);
      h.set("X-Content-Type-Options", "nosniff");
      h.set("X-Frame-Options", "DENY");
      h.set("Referrer-Policy", "no-referrer");
      h.set("Cross-Origin-Opener-Policy", "same-origin");
      h.set("Cross-Origin-Resource-Policy", "same-origin");
      String path = exchange.getRequest().getPath().value();
      if (path.startsWith("/admin/")) {
        h.set(HttpHeaders.CACHE_CONTROL, "no-store");
        MediaType type = exchange.getRequest().getHeaders().getContentType();
        if (CHANGING.contains(exchange.getRequest().getMethod()) && type != null
            && FORM_TYPES.contains(type.getType() + "/" + type.getSubtype())) {
          return problems.write(exchange, new ProblemException(ProblemCode.UNSUPPORTED_MEDIA_TYPE,
              type.getType() + "/" + type.getSubtype() + " is not accepted here (JSON or YAML bodies only)"),
              requestId());
        }
      }
      return chain.filter(exchange);
    };
  }

  private static String requestId() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }
}

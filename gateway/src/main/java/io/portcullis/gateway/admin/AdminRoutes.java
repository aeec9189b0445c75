package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditCursor;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditFilter;
import io.portcullis.audit.AuditJson;
import io.portcullis.audit.AuditQuery;
import io.portcullis.audit.Outcome;
import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.broker.TokenRejectedException;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.gateway.problem.ProblemResponder;
import io.portcullis.gateway.token.AdminScopes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * Admin API routes. Every route requires a broker-issued token carrying the admin scope: data-plane tokens are
 * refused (403), anything else is 401.
 */
final class AdminRoutes {

  private static final int DEFAULT_PAGE = 50;

  private final AccessTokenVerifier verifier;
  private final AuditQuery audit;
  private final ProblemResponder problems;

  AdminRoutes(AccessTokenVerifier verifier, AuditQuery audit, ProblemResponder problems) {
    this.verifier = verifier;
    this.audit = audit;
    this.problems = problems;
  }

  RouterFunction<ServerResponse> routes() {
    return RouterFunctions.route()
        .GET("/admin/audit/events", this::auditEvents)
        .filter(adminOnly())
        .build();
  }

  /** {@code GET /admin/audit/events?app=&actor=&dataset=&outcome=&limit=&cursor=}, newest first, keyset-paged. */
  Mono<ServerResponse> auditEvents(ServerRequest request) {
    AuditFilter filter = AuditFilter.ANY;
    String app = request.queryParam("app").orElse(null);
    if (app != null) {
      filter = filter.withApp(app);
    }
    String actor = request.queryParam("actor").orElse(null);
    if (actor != null) {
      filter = filter.withActor(actor);
    }
    String dataset = request.queryParam("dataset").orElse(null);
    if (dataset != null) {
      filter = filter.withDataset(dataset);
    }
    String outcome = request.queryParam("outcome").orElse(null);
    if (outcome != null) {
      try {
        filter = filter.withOutcome(Outcome.fromJson(outcome));
      } catch (IllegalArgumentException e) {
        throw new ProblemException(ProblemCode.INVALID_QUERY, e.getMessage());
      }
    }
    int limit = request.queryParam("limit").map(AdminRoutes::parseLimit).orElse(DEFAULT_PAGE);
    AuditCursor cursor;
    try {
      cursor = request.queryParam("cursor").map(AuditCursor::decode).orElse(null);
    } catch (IllegalArgumentException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "cursor is malformed");
    }
    return audit.find(filter, cursor, limit).collectList().flatMap(events -> {
      StringBuilder body = new StringBuilder(events.size() * 600 + 64).append("{\"events\":[");
      for (int i = 0; i < events.size(); i++) {
        if (i > 0) {
          body.append(',');
        }
        body.append(AuditJson.toJson(events.get(i)));
      }
      body.append(']');
      if (events.size() == limit) {
        body.append(",\"next_cursor\":\"").append(AuditCursor.after(events.get(events.size() - 1)).encode()).append('"');
      }
      body.append('}');
      return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
          .bodyValue(body.toString().getBytes(StandardCharsets.UTF_8));
    });
  }

  private static int parseLimit(String s) {
    try {
      int n = Integer.parseInt(s);
      if (n >= 1 && n <= AuditQuery.MAX_PAGE) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the problem below
    }
    throw new ProblemException(ProblemCode.INVALID_QUERY, "limit must be 1.." + AuditQuery.MAX_PAGE);
  }

  private HandlerFilterFunction<ServerResponse, ServerResponse> adminOnly() {
    return (request, next) -> {
      String requestId = java.util.HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
      String header = request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
      Mono<ServerResponse> response;
      if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        response = Mono.error(new ProblemException(ProblemCode.INVALID_TOKEN, "an admin Bearer token is required"));
      } else {
        response = verifier.verify(header.substring(7).trim())
            .onErrorMap(TokenRejectedException.class, e -> new ProblemException(ProblemCode.INVALID_TOKEN, e.detail()))
            .flatMap(claims -> claims.hasScope(AdminScopes.ADMIN)
                ? next.handle(request)
                : Mono.error(new ProblemException(ProblemCode.POLICY_DENIED, "the admin API needs an admin token")));
      }
      return response.onErrorResume(e -> problems.write(request.exchange(), problems.classify(e), requestId)
          .then(Mono.empty()));
    };
  }

}

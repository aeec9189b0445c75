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
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.token.AdminScopes;
import io.portcullis.policy.TokenClaims;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
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
  private final AdminActions actions;
  private final ConfigStore configs;

  AdminRoutes(AccessTokenVerifier verifier, AuditQuery audit, ProblemResponder problems, AdminActions actions,
      ConfigStore configs) {
    this.verifier = verifier;
    this.audit = audit;
    this.problems = problems;
    this.actions = actions;
    this.configs = configs;
  }

  RouterFunction<ServerResponse> routes() {
    return RouterFunctions.route()
        .GET("/admin/audit/events", this::auditEvents)
        .GET("/admin/config", this::exportConfig)
        .PUT("/admin/config", this::importConfig)
        .POST("/admin/apps/{app}/pause", r -> actions.pause(r.pathVariable("app"), admin(r), reason(r))
            .then(ServerResponse.noContent().build()))
        .POST("/admin/apps/{app}/resume", r -> actions.resume(r.pathVariable("app"), admin(r), reason(r))
            .then(ServerResponse.noContent().build()))
        .POST("/admin/keys/rotate", r -> actions.rotateKeys(admin(r), reason(r))
            .then(ServerResponse.noContent().build()))
        .filter(adminOnly())
        .build();
  }

  /** {@code GET /admin/config}: the serving version as the policy YAML (GitOps export). */
  Mono<ServerResponse> exportConfig(ServerRequest request) {
    return configs.latest().flatMap(stored -> ServerResponse.ok()
            .contentType(YAML)
            .header("Portcullis-Config-Version", String.valueOf(stored.version()))
            .bodyValue(stored.yaml()))
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no config stored")));
  }

  /** {@code PUT /admin/config} with the policy YAML and a reason: validated, versioned, applied everywhere. */
  Mono<ServerResponse> importConfig(ServerRequest request) {
    TokenClaims admin = admin(request);
    String reason = reason(request);
    return request.bodyToMono(String.class)
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.INVALID_BODY, "the body must be the policy YAML")))
        .flatMap(yaml -> actions.importConfig(yaml, admin, reason))
        .flatMap(version -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("version", version)));
  }

  private static final MediaType YAML = MediaType.parseMediaType("application/yaml");
  private static final String ADMIN_ATTRIBUTE = AdminRoutes.class.getName() + ".admin";

  private static TokenClaims admin(ServerRequest request) {
    return (TokenClaims) request.attribute(ADMIN_ATTRIBUTE)
        .orElseThrow(() -> new IllegalStateException("admin filter did not run"));
  }

  /** Every change states why: {@code ?reason=} or the {@code Portcullis-Reason} header. */
  private static String reason(ServerRequest request) {
    String reason = request.queryParam("reason").orElseGet(() -> request.headers().firstHeader("Portcullis-Reason"));
    if (reason == null || reason.isBlank()) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "a reason is required (?reason=… or Portcullis-Reason)");
    }
    return reason.length() > 500 ? reason.substring(0, 500) : reason;
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
            .flatMap(claims -> {
              if (!claims.hasScope(AdminScopes.ADMIN)) {
                return Mono.<ServerResponse>error(
                    new ProblemException(ProblemCode.POLICY_DENIED, "the admin API needs an admin token"));
              }
              request.attributes().put(ADMIN_ATTRIBUTE, claims);
              return Mono.defer(() -> next.handle(request));
            });
      }
      return response.onErrorResume(e -> problems.write(request.exchange(), problems.classify(e), requestId)
          .then(Mono.empty()));
    };
  }

}

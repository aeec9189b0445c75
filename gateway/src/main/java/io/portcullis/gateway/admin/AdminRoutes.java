package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditCsv;
import io.portcullis.audit.AuditCursor;
import io.portcullis.audit.AuditFilter;
import io.portcullis.audit.AuditJson;
import io.portcullis.audit.AuditQuery;
import io.portcullis.audit.Outcome;
import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.broker.TokenRejectedException;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.ConfigVersionInfo;
import io.portcullis.gateway.config.InstanceSigningKey;
import io.portcullis.gateway.config.PolicyCompilerService;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.gateway.problem.ProblemResponder;
import io.portcullis.gateway.token.AdminScopes;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.PolicyConfigException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;

/**
 * Admin API routes (DESIGN.md §8). Every route requires a broker-issued token carrying the admin scope: data-plane
 * tokens are refused (403), anything else is 401. Every change needs a reason ({@code ?reason=} or the
 * {@code Portcullis-Reason} header) and may pin the version it was based on with {@code If-Match: "<version>"}
 * (412 {@code version_conflict} when another change came first); the served document is {@code /admin/openapi.json}.
 */
final class AdminRoutes {

  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_VERSIONS_PAGE = 500;
  static final MediaType JSON = MediaType.APPLICATION_JSON;

  private final AccessTokenVerifier verifier;
  private final AuditQuery audit;
  private final ProblemResponder problems;
  private final AdminActions actions;
  private final ConfigChanges changes;
  private final ConfigStore configs;
  private final ChangeRequestStore requests;
  private final PolicyCompilerService compiler;
  private final SnapshotHolder snapshots;
  private final Simulator simulator;
  private final ReviewScheduler reviews;
  private final AdminAudit changesAudit;
  private final byte[] approvalKeys;

  AdminRoutes(AccessTokenVerifier verifier, AuditQuery audit, ProblemResponder problems, AdminActions actions,
      ConfigChanges changes, ConfigStore configs, ChangeRequestStore requests, PolicyCompilerService compiler,
      SnapshotHolder snapshots, ReviewScheduler reviews, AdminAudit changesAudit, InstanceSigningKey signingKey) {
    this.verifier = verifier;
    this.audit = audit;
    this.problems = problems;
    this.actions = actions;
    this.changes = changes;
    this.configs = configs;
    this.requests = requests;
    this.compiler = compiler;
    this.snapshots = snapshots;
    this.simulator = new Simulator(audit);
    this.reviews = reviews;
    this.changesAudit = changesAudit;
    this.approvalKeys = signingKey.publicJwksJson().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Routes that need no token: {@code GET /admin/signing-keys}, the public key (JWKS) of the gateway's instance key,
   * which verifies four-eyes approval JWSs and the audit's checkpoint JWSs — public so an auditor holding an exported
   * version or a copy of the audit table can check it without admin rights. {@code /admin/approval-keys} is its
   * older name, kept for clients that use it.
   */
  RouterFunction<ServerResponse> publicRoutes() {
    return RouterFunctions.route()
        .GET("/admin/signing-keys", r -> ServerResponse.ok().contentType(JSON).bodyValue(approvalKeys))
        .GET("/admin/approval-keys", r -> ServerResponse.ok().contentType(JSON).bodyValue(approvalKeys))
        .build();
  }

  RouterFunction<ServerResponse> routes() {
    RouterFunctions.Builder b = RouterFunctions.route()
        .GET("/admin/openapi.json", this::openApi)
        .GET("/admin/audit/events", this::auditEvents)
        .GET("/admin/config", this::exportConfig)
        .PUT("/admin/config", this::importConfig)
        .POST("/admin/config/validate", this::validate)
        .POST("/admin/config/simulate", this::simulate)
        .GET("/admin/config/versions", this::versions)
        .GET("/admin/config/versions/{version}", this::version)
        .GET("/admin/config/versions/{version}/diff", this::diff)
        .POST("/admin/config/versions/{version}/rollback", this::rollback)
        .GET("/admin/change-requests", this::changeRequests)
        .GET("/admin/change-requests/{id}", this::changeRequest)
        .POST("/admin/change-requests/{id}/approve", r -> changes.approve(longPath(r, "id"), admin(r), reason(r))
            .flatMap(cr -> json(ServerResponse.ok().header(HttpHeaders.ETAG, etag(cr.appliedVersion())),
                changeRequestJson(cr, false))))
        .POST("/admin/change-requests/{id}/reject", r -> changes.reject(longPath(r, "id"), admin(r), reason(r))
            .flatMap(cr -> json(ServerResponse.ok(), changeRequestJson(cr, false))))
        .POST("/admin/apps/{app}/pause", r -> actions.pause(r.pathVariable("app"), admin(r), reason(r))
            .then(ServerResponse.noContent().build()))
        .POST("/admin/apps/{app}/resume", r -> actions.resume(r.pathVariable("app"), admin(r), reason(r))
            .then(ServerResponse.noContent().build()))
        .POST("/admin/apps/{app}/retire", this::retire)
        .GET("/admin/lifecycle/reviews", r -> json(ServerResponse.ok(), Map.of("today", reviews.today().toString(),
            "apps", reviews.statuses())))
        .POST("/admin/keys/rotate", r -> actions.rotateKeys(admin(r), reason(r))
            .then(ServerResponse.noContent().build()));
    for (EntityKind kind : EntityKind.values()) {
      String base = "/admin/" + kind.collection();
      b.GET(base, r -> listEntities(r, kind))
          .POST(base, r -> createEntity(r, kind))
          .GET(base + "/{id}", r -> getEntity(r, kind))
          .PUT(base + "/{id}", r -> replaceEntity(r, kind))
          .DELETE(base + "/{id}", r -> deleteEntity(r, kind));
    }
    return b.filter(adminOnly()).build();
  }

  /** {@code GET /admin/config}: the newest version as the policy YAML (GitOps export), its version as the ETag. */
  Mono<ServerResponse> exportConfig(ServerRequest request) {
    return configs.latest().flatMap(stored -> ServerResponse.ok()
            .contentType(YAML)
            .header("Portcullis-Config-Version", String.valueOf(stored.version()))
            .header(HttpHeaders.ETAG, etag(stored.version()))
            .bodyValue(stored.yaml()))
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no config stored")));
  }

  /**
   * {@code PUT /admin/config} with the policy YAML and a reason (GitOps import): validated, diffed, versioned (or
   * parked for a second admin) and applied everywhere. The YAML is stored as sent, comments included.
   */
  Mono<ServerResponse> importConfig(ServerRequest request) {
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return yamlBody(request)
        .flatMap(yaml -> changes.submit(ifMatch, base -> yaml, admin, reason, new ConfigChanges.Intent("import",
            "config", "whole", true)))
        .flatMap(result -> changeResponse(result, HttpStatus.OK));
  }

  /** {@code POST /admin/config/validate}: compile a draft, report its diff and whether it needs a second admin. */
  Mono<ServerResponse> validate(ServerRequest request) {
    return yamlBody(request).flatMap(yaml -> changes.latest().flatMap(base -> Mono.fromCallable(() -> {
          ConfigChanges.Draft draft = changes.draft(base, yaml);
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("valid", true);
          body.put("base_version", base.version());
          body.put("diff", draft.diff().toJson());
          body.put("four_eyes", FourEyesRule.reasons(base.config(), draft.config(), draft.diff()));
          return body;
        }).subscribeOn(Schedulers.boundedElastic())))
        .flatMap(body -> json(ServerResponse.ok(), body));
  }

  /** {@code POST /admin/config/simulate?requests=N} with a draft YAML: which recent decisions it would change. */
  Mono<ServerResponse> simulate(ServerRequest request) {
    int n = request.queryParam("requests").map(Simulator::parseRequests).orElse(Simulator.DEFAULT_REQUESTS);
    return yamlBody(request)
        .flatMap(yaml -> Mono.fromCallable(() -> {
          try {
            return compiler.validate(yaml, "draft");
          } catch (PolicyConfigException e) {
            throw ConfigChanges.invalidConfig(e);
          }
        }).subscribeOn(Schedulers.boundedElastic()))
        .flatMap(draft -> simulator.simulate(snapshots.current(), draft, n))
        .doOnNext(report -> recordRead(request, "simulate"))
        .flatMap(report -> json(ServerResponse.ok(), report));
  }

  /** {@code GET /admin/config/versions?limit=&before=}: newest first, with author, reason, time and change summary. */
  Mono<ServerResponse> versions(ServerRequest request) {
    int limit = request.queryParam("limit").map(v -> parseInt(v, "limit", 1, MAX_VERSIONS_PAGE)).orElse(DEFAULT_PAGE);
    long before = request.queryParam("before").map(v -> parseLong(v, "before")).orElse(Long.MAX_VALUE);
    return configs.history(before, limit).map(this::versionSummary).collectList().flatMap(list -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("versions", list);
      if (list.size() == limit) {
        body.put("next_before", list.get(list.size() - 1).get("version"));
      }
      return json(ServerResponse.ok(), body);
    });
  }

  private Map<String, Object> versionSummary(ConfigVersionInfo info) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", info.version());
    m.put("parent", info.parent());
    m.put("author", info.author());
    m.put("reason", info.reason());
    m.put("created_at", info.createdAt().toString());
    m.put("summary", info.diffJson() == null ? null : readJson(info.diffJson()).get("summary"));
    m.put("approved", info.approval() != null);
    return m;
  }

  /**
   * {@code GET /admin/config/versions/{v}}: the version's YAML ({@code Accept: application/yaml}, the default) or, for
   * {@code Accept: application/json}, its metadata, diff, approval JWS and the config as JSON.
   */
  Mono<ServerResponse> version(ServerRequest request) {
    long v = longPath(request, "version");
    boolean json = request.headers().accept().stream()
        .anyMatch(m -> m.isCompatibleWith(JSON) && !m.isWildcardType());
    if (!json) {
      return changes.version(v).flatMap(base -> ServerResponse.ok().contentType(YAML)
          .header("Portcullis-Config-Version", String.valueOf(v)).bodyValue(base.stored().yaml()));
    }
    return changes.version(v).zipWith(configs.info(v)).flatMap(t -> {
      Map<String, Object> body = versionSummary(t.getT2());
      body.put("diff", t.getT2().diffJson() == null ? null : readJson(t.getT2().diffJson()));
      body.put("approval", t.getT2().approval());
      body.put("config", t.getT1().tree());
      return json(ServerResponse.ok(), body);
    });
  }

  /**
   * {@code GET /admin/config/versions/{v}/diff?against=w}: what changed from {@code w} (default: the version before
   * {@code v}) to {@code v}, per entity, computed from the two models.
   */
  Mono<ServerResponse> diff(ServerRequest request) {
    long v = longPath(request, "version");
    long against = request.queryParam("against").map(s -> parseLong(s, "against")).orElse(v - 1);
    return changes.version(against).zipWith(changes.version(v)).flatMap(t -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("from", against);
      body.put("to", v);
      body.putAll(ConfigDiff.between(t.getT1().tree(), t.getT2().tree()).toJson());
      return json(ServerResponse.ok(), body);
    });
  }

  /** {@code POST /admin/config/versions/{v}/rollback}: a NEW version equal to {@code v} (history is never rewritten). */
  Mono<ServerResponse> rollback(ServerRequest request) {
    long v = longPath(request, "version");
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return changes.version(v).flatMap(target -> changes.submit(ifMatch, base -> target.stored().yaml(), admin,
            reason, new ConfigChanges.Intent("rollback", "config", String.valueOf(v), true)))
        .flatMap(result -> changeResponse(result, HttpStatus.OK));
  }

  /** {@code POST /admin/apps/{app}/retire}: the app's status becomes {@code retired} in a new version. */
  Mono<ServerResponse> retire(ServerRequest request) {
    String app = request.pathVariable("app");
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return changes.submit(ifMatch, base -> EntityEdits.setField(base, EntityKind.APP, app, "status", "retired"), admin,
            reason, new ConfigChanges.Intent("retire", "app", app, false))
        .flatMap(result -> changeResponse(result, HttpStatus.OK));
  }

  Mono<ServerResponse> listEntities(ServerRequest request, EntityKind kind) {
    return changes.latest().flatMap(base -> json(ServerResponse.ok().header(HttpHeaders.ETAG, etag(base.version())),
        Map.of("version", base.version(), "items", EntityEdits.list(base.tree(), kind))));
  }

  Mono<ServerResponse> getEntity(ServerRequest request, EntityKind kind) {
    String id = request.pathVariable("id");
    return changes.latest().flatMap(base -> {
      Map<String, Object> entity = EntityEdits.find(base.tree(), kind, id);
      if (entity == null) {
        return Mono.error(EntityEdits.notFound(kind, id));
      }
      return json(ServerResponse.ok().header(HttpHeaders.ETAG, etag(base.version())), entity);
    });
  }

  Mono<ServerResponse> createEntity(ServerRequest request, EntityKind kind) {
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return entityBody(request).flatMap(entity -> {
      String id = EntityEdits.idOf(kind, entity);
      return changes.submit(ifMatch, base -> EntityEdits.create(base, kind, entity), admin, reason,
              new ConfigChanges.Intent("create", kind.singular(), id, false))
          .flatMap(result -> changeResponse(result, HttpStatus.CREATED));
    });
  }

  Mono<ServerResponse> replaceEntity(ServerRequest request, EntityKind kind) {
    String id = request.pathVariable("id");
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return entityBody(request).flatMap(entity -> changes.submit(ifMatch,
            base -> EntityEdits.replace(base, kind, id, entity), admin, reason,
            new ConfigChanges.Intent("update", kind.singular(), id, false)))
        .flatMap(result -> changeResponse(result, HttpStatus.OK));
  }

  Mono<ServerResponse> deleteEntity(ServerRequest request, EntityKind kind) {
    String id = request.pathVariable("id");
    TokenClaims admin = admin(request);
    String reason = reason(request);
    Long ifMatch = ifMatch(request);
    return changes.submit(ifMatch, base -> EntityEdits.delete(base, kind, id), admin, reason,
            new ConfigChanges.Intent("delete", kind.singular(), id, false))
        .flatMap(result -> changeResponse(result, HttpStatus.OK));
  }

  /** {@code GET /admin/change-requests?status=pending&limit=&before=}: newest first, diff included, YAML not. */
  Mono<ServerResponse> changeRequests(ServerRequest request) {
    String status = request.queryParam("status").orElse(null);
    if (status != null && !List.of(ChangeRequest.PENDING, ChangeRequest.APPROVED, ChangeRequest.REJECTED,
        ChangeRequest.SUPERSEDED).contains(status)) {
      throw new ProblemException(ProblemCode.INVALID_QUERY,
          "status: " + status + " (expected: pending, approved, rejected or superseded)");
    }
    int limit = request.queryParam("limit").map(v -> parseInt(v, "limit", 1, MAX_VERSIONS_PAGE)).orElse(DEFAULT_PAGE);
    long before = request.queryParam("before").map(v -> parseLong(v, "before")).orElse(Long.MAX_VALUE);
    return requests.list(status, before, limit).map(cr -> changeRequestJson(cr, false)).collectList()
        .flatMap(list -> json(ServerResponse.ok(), Map.of("change_requests", list)));
  }

  Mono<ServerResponse> changeRequest(ServerRequest request) {
    long id = longPath(request, "id");
    return requests.get(id)
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no change request " + id)))
        .flatMap(cr -> json(ServerResponse.ok(), changeRequestJson(cr, true)));
  }

  Mono<ServerResponse> openApi(ServerRequest request) {
    return ServerResponse.ok().contentType(JSON).bodyValue(OpenApiDocument.bytes());
  }

  private Map<String, Object> changeRequestJson(ChangeRequest cr, boolean withYaml) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", cr.id());
    m.put("status", cr.status());
    m.put("base_version", cr.baseVersion());
    m.put("author", cr.author());
    m.put("reason", cr.reason());
    m.put("created_at", cr.createdAt().toString());
    m.put("decided_by", cr.decidedBy());
    m.put("decided_at", cr.decidedAt() == null ? null : cr.decidedAt().toString());
    m.put("decision_reason", cr.decisionReason());
    m.put("applied_version", cr.appliedVersion());
    m.put("approval", cr.approval());
    m.put("diff", readJson(cr.diffJson()));
    if (withYaml) {
      m.put("yaml", cr.yaml());
    }
    return m;
  }

  /**
   * 200/201 {@code applied} with the new version (ETag) and diff; 202 {@code pending_approval} with the change request
   * and why it needs a second admin; 200 {@code unchanged} when the result equals the newest version.
   */
  private Mono<ServerResponse> changeResponse(ConfigChanges.Result result, HttpStatus applied) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", result.status().name().toLowerCase(java.util.Locale.ROOT));
    body.put("version", result.version());
    return switch (result.status()) {
      case APPLIED -> {
        body.put("diff", result.diff().toJson());
        yield json(ServerResponse.status(applied).header(HttpHeaders.ETAG, etag(result.version()))
            .header("Portcullis-Config-Version", String.valueOf(result.version())), body);
      }
      case PENDING_APPROVAL -> {
        body.put("four_eyes", result.fourEyes());
        body.put("change_request", changeRequestJson(result.changeRequest(), false));
        yield json(ServerResponse.status(HttpStatus.ACCEPTED).header(HttpHeaders.ETAG, etag(result.version())), body);
      }
      case UNCHANGED -> json(ServerResponse.ok().header(HttpHeaders.ETAG, etag(result.version())), body);
    };
  }

  private static Mono<ServerResponse> json(ServerResponse.BodyBuilder builder, Object body) {
    return builder.contentType(JSON).bodyValue(ConfigChanges.JSON.writeValueAsBytes(body));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readJson(String json) {
    return ConfigChanges.JSON.readValue(json, LinkedHashMap.class);
  }

  private static String etag(@Nullable Long version) {
    return version == null ? "" : "\"" + version + "\"";
  }

  /**
   * {@code If-Match: "12"} (also {@code W/"12"} or a bare {@code 12}): the config version the change is based on.
   * Absent or {@code *}: the newest.
   */
  static @Nullable Long ifMatch(ServerRequest request) {
    String header = request.headers().firstHeader(HttpHeaders.IF_MATCH);
    if (header == null || header.isBlank() || header.trim().equals("*")) {
      return null;
    }
    String v = header.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "If-Match: " + header + " (expected: a config version "
          + "ETag such as \"12\")");
    }
  }

  private static Mono<String> yamlBody(ServerRequest request) {
    return request.bodyToMono(String.class)
        .filter(s -> !s.isBlank())
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.INVALID_BODY, "the body must be the policy YAML")));
  }

  @SuppressWarnings("unchecked")
  private static Mono<Map<String, Object>> entityBody(ServerRequest request) {
    return request.bodyToMono(String.class)
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.INVALID_BODY, "the body must be a JSON object")))
        .map(body -> {
          Object parsed;
          try {
            parsed = ConfigChanges.JSON.readValue(body, Object.class);
          } catch (JacksonException e) {
            throw new ProblemException(ProblemCode.INVALID_BODY, "the body is not JSON: "
                + e.getOriginalMessage());
          }
          if (!(parsed instanceof Map<?, ?> map)) {
            throw new ProblemException(ProblemCode.INVALID_BODY, "the body must be a JSON object");
          }
          return (Map<String, Object>) map;
        });
  }

  private static long longPath(ServerRequest request, String name) {
    return parseLong(request.pathVariable(name), name);
  }

  private static long parseLong(String value, String name) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, name + ": " + value + " (expected: an integer)");
    }
  }

  private static int parseInt(String value, String name, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the problem below
    }
    throw new ProblemException(ProblemCode.INVALID_QUERY, name + ": " + value + " (expected: " + min + ".." + max + ")");
  }

  /** Reads that run the policy engine over audited traffic are themselves audited (who looked at what). */
  private void recordRead(ServerRequest request, String action) {
    changesAudit.record(admin(request), "config", "draft", action, null);
  }

  private static final MediaType YAML = MediaType.parseMediaType("application/yaml");
  private static final String ADMIN_ATTRIBUTE = AdminRoutes.class.getName() + ".admin";

  static TokenClaims admin(ServerRequest request) {
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

  /**
   * {@code GET /admin/audit/events?app=&actor=&dataset=&outcome=&from=&to=&limit=&cursor=}, newest first, keyset-paged;
   * as JSON, or as CSV with {@code ?format=csv} / {@code Accept: text/csv} (an export, itself audited).
   */
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
    Instant from = request.queryParam("from").map(v -> parseInstant(v, "from")).orElse(null);
    Instant to = request.queryParam("to").map(v -> parseInstant(v, "to")).orElse(null);
    if (from != null || to != null) {
      filter = filter.between(from, to);
    }
    int limit = request.queryParam("limit").map(AdminRoutes::parseLimit).orElse(DEFAULT_PAGE);
    AuditCursor cursor;
    try {
      cursor = request.queryParam("cursor").map(AuditCursor::decode).orElse(null);
    } catch (IllegalArgumentException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "cursor is malformed");
    }
    if (wantsCsv(request)) {
      changesAudit.record(admin(request), "audit", "events", "audit_export", null); // who took audit data out
      // streamed row by row (AuditCsv): an export of 10,000 events is never held in memory as one string
      return ServerResponse.ok().contentType(CSV)
          .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"portcullis-audit.csv\"")
          .body(AuditCsv.write(audit.find(filter, cursor, limit)), String.class);
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

  private static final MediaType CSV = MediaType.parseMediaType("text/csv;charset=UTF-8");

  /** {@code ?format=csv} (what a download link can ask for) or {@code Accept: text/csv}. */
  private static boolean wantsCsv(ServerRequest request) {
    String format = request.queryParam("format").orElse("json");
    if (!format.equals("json") && !format.equals("csv")) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "format: " + format + " (expected: json or csv)");
    }
    return format.equals("csv") || request.headers().accept().stream()
        .anyMatch(m -> m.getType().equals("text") && m.getSubtype().equals("csv"));
  }

  private static Instant parseInstant(String value, String name) {
    try {
      return Instant.parse(value);
    } catch (java.time.format.DateTimeParseException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, name + ": " + value
          + " (expected: an ISO-8601 instant such as 2026-11-23T14:00:00Z)");
    }
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

  /** Admin-scope bearer tokens only; also guards the ops routes (OpsRoutes) composed next to these. */
  HandlerFilterFunction<ServerResponse, ServerResponse> adminOnly() {
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

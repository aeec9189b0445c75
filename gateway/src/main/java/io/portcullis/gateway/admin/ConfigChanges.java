package io.portcullis.gateway.admin;

import com.nimbusds.jose.JOSEObjectType;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.InstanceSigningKey;
import io.portcullis.gateway.config.PolicyCompilerService;
import io.portcullis.gateway.config.StoredConfig;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.PolicyConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one way the admin API changes the config (whole-file import, entity edits, rollback, lifecycle): take the
 * newest version as the base, check the admin's {@code If-Match}, apply the edit, compile the whole result (nothing is
 * stored unless it compiles), diff it per entity, then either store it as the next version — a compare-and-set on the
 * base, so a concurrent change is never overwritten — or, for changes the {@link FourEyesRule} names, park it as a
 * change request until a second admin approves. Every instance applies a stored version on NOTIFY.
 */
final class ConfigChanges {

  static final JOSEObjectType APPROVAL_TYPE = new JOSEObjectType("portcullis-approval+jws");
  static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int RETRIES = 3;

  private final ConfigStore configs;
  private final ChangeRequestStore requests;
  private final PolicyCompilerService compiler;
  private final InstanceSigningKey signingKey;
  private final AdminAudit audit;
  private final Clock clock;
  private final AtomicReference<Base> lastBase = new AtomicReference<>();

  ConfigChanges(ConfigStore configs, ChangeRequestStore requests, PolicyCompilerService compiler,
      InstanceSigningKey signingKey, AdminAudit audit, Clock clock) {
    this.configs = configs;
    this.requests = requests;
    this.compiler = compiler;
    this.signingKey = signingKey;
    this.audit = audit;
    this.clock = clock;
  }

  /** A stored version parsed: its model and the same as a tree of maps (the JSON/YAML entity form). */
  record Base(StoredConfig stored, PolicyConfig config, Map<String, Object> tree) {
    long version() {
      return stored.version();
    }

    /** A deep copy of the tree an edit may change freely. */
    @SuppressWarnings("unchecked")
    Map<String, Object> editableTree() {
      return JSON.convertValue(tree, LinkedHashMap.class);
    }
  }

  enum Status { APPLIED, PENDING_APPROVAL, UNCHANGED }

  /** What became of a change. */
  record Result(Status status, long version, ConfigDiff diff, @Nullable ChangeRequest changeRequest,
      List<String> fourEyes) {
  }

  /**
   * What an admin asked for, for the audit event: {@code action} on {@code resourceType}/{@code resourceId}.
   * {@code verbatim}: the YAML text itself is the admin's (import, rollback), so a text-only change (comments,
   * layout) is still stored — export gives back the file that was imported; entity edits re-serialize the model, so
   * for them only a model change counts.
   */
  record Intent(String action, String resourceType, String resourceId, boolean verbatim) {
  }

  /** The newest version, parsed (memoized per version: admins read far more often than they write). */
  Mono<Base> latest() {
    return configs.latest()
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no config stored")))
        .flatMap(this::parse);
  }

  Mono<Base> version(long version) {
    return configs.version(version)
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no config version " + version)))
        .flatMap(this::parse);
  }

  private Mono<Base> parse(StoredConfig stored) {
    Base memo = lastBase.get();
    if (memo != null && memo.version() == stored.version()) {
      return Mono.just(memo);
    }
    return Mono.fromCallable(() -> {
      PolicyConfig config = PolicyConfigLoader.parse(stored.yaml(), "config version " + stored.version());
      Base base = new Base(stored, config, PolicyConfigWriter.toTree(config));
      lastBase.set(base);
      return base;
    }).subscribeOn(Schedulers.boundedElastic());
  }

  /**
   * Applies {@code edit} (base → the whole new YAML) as described on the class. {@code ifMatch}: the version the admin
   * based the change on ({@code null}: the newest, retried on a concurrent change since the admin did not pin one).
   */
  Mono<Result> submit(@Nullable Long ifMatch, Function<Base, String> edit, TokenClaims admin, String reason,
      Intent intent) {
    return attempt(ifMatch, edit, admin, reason, intent, 1);
  }

  private Mono<Result> attempt(@Nullable Long ifMatch, Function<Base, String> edit, TokenClaims admin, String reason,
      Intent intent, int attempt) {
    return latest().flatMap(base -> {
      if (ifMatch != null && ifMatch != base.version()) {
        return Mono.error(conflict(ifMatch, base.version()));
      }
      return Mono.fromCallable(() -> draft(base, edit.apply(base)))
          .subscribeOn(Schedulers.boundedElastic())
          .flatMap(draft -> {
            if (draft.yaml().equals(base.stored().yaml()) || (draft.diff().isEmpty() && !intent.verbatim())) {
              return Mono.just(new Result(Status.UNCHANGED, base.version(), draft.diff(), null, List.of()));
            }
            String diffJson = JSON.writeValueAsString(draft.diff().toJson());
            List<String> fourEyes = FourEyesRule.reasons(base.config(), draft.config(), draft.diff());
            if (!fourEyes.isEmpty()) {
              return requests.create(base.version(), draft.yaml(), diffJson, admin.subject(), reason)
                  .doOnNext(cr -> audit.record(admin, "change_request", String.valueOf(cr.id()),
                      intent.action() + ":requested", null))
                  .map(cr -> new Result(Status.PENDING_APPROVAL, base.version(), draft.diff(), cr, fourEyes));
            }
            return configs.appendIfCurrent(base.version(), draft.yaml(), admin.subject(), reason, diffJson, null)
                .doOnNext(v -> audit.record(admin, intent.resourceType(), intent.resourceId(), intent.action(), v))
                .map(v -> new Result(Status.APPLIED, v, draft.diff(), null, List.of()))
                .switchIfEmpty(Mono.defer(() -> ifMatch != null || attempt >= RETRIES
                    ? configs.latest().flatMap(now -> Mono.error(conflict(base.version(), now.version())))
                    : attempt(null, edit, admin, reason, intent, attempt + 1)));
          });
    });
  }

  /** A compiled draft and its diff against the base. */
  record Draft(String yaml, PolicyConfig config, ConfigDiff diff) {
  }

  /** Compiles {@code yaml} as the next version would be compiled; problem+json with every issue when it does not. */
  Draft draft(Base base, String yaml) {
    PolicyConfig next;
    try {
      next = compiler.validate(yaml, "draft").config();
    } catch (PolicyConfigException e) {
      throw invalidConfig(e);
    }
    return new Draft(yaml, next, ConfigDiff.between(base.tree(), PolicyConfigWriter.toTree(next)));
  }

  /** Approves a pending change request: a second admin, the config not moved on; stores the version with a JWS. */
  Mono<ChangeRequest> approve(long id, TokenClaims approver, String reason) {
    return pending(id).flatMap(cr -> {
      if (cr.author().equals(approver.subject())) {
        return Mono.error(new ProblemException(ProblemCode.SELF_APPROVAL,
            "change request " + id + " was submitted by " + cr.author() + "; a second admin must approve it"));
      }
      return latest().flatMap(base -> {
        if (base.version() != cr.baseVersion()) {
          return supersede(cr, approver, base.version());
        }
        return Mono.fromCallable(() -> {
              draft(base, cr.yaml()); // compiled again: the hash key or compiler may have changed since submission
              return approvalJws(cr, approver, reason);
            })
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(jws -> configs.appendIfCurrent(cr.baseVersion(), cr.yaml(), cr.author(), cr.reason(),
                    cr.diffJson(), jws)
                .flatMap(v -> requests.decide(id, ChangeRequest.APPROVED, approver.subject(), reason, jws, v)
                    .doOnNext(done -> audit.record(approver, "change_request", String.valueOf(id), "approve", v)))
                .switchIfEmpty(Mono.defer(() -> configs.latest()
                    .flatMap(now -> supersede(cr, approver, now.version())))));
      });
    });
  }

  Mono<ChangeRequest> reject(long id, TokenClaims admin, String reason) {
    return pending(id).flatMap(cr -> requests.decide(id, ChangeRequest.REJECTED, admin.subject(), reason, null, null))
        .switchIfEmpty(Mono.error(() -> closed(id)))
        .doOnNext(cr -> audit.record(admin, "change_request", String.valueOf(id), "reject", null));
  }

  private Mono<ChangeRequest> pending(long id) {
    return requests.get(id)
        .switchIfEmpty(Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no change request " + id)))
        .flatMap(cr -> ChangeRequest.PENDING.equals(cr.status()) ? Mono.just(cr) : Mono.error(closed(id)));
  }

  private Mono<ChangeRequest> supersede(ChangeRequest cr, TokenClaims approver, long now) {
    return requests.decide(cr.id(), ChangeRequest.SUPERSEDED, approver.subject(),
            "config moved from version " + cr.baseVersion() + " to " + now + " before approval", null, null)
        .then(Mono.error(new ProblemException(ProblemCode.ILLEGAL_TRANSITION, "change request " + cr.id()
            + " was based on config version " + cr.baseVersion() + ", now " + now + ": superseded, resubmit it")));
  }

  /**
   * The signed approval kept with the version: who approved whose change, based on which version, and hashes binding
   * it to the exact YAML and diff. Signed with the gateway's own instance key (so approvals work whether the gateway
   * runs the token broker or only verifies an external one's tokens), verifiable with {@code GET /admin/approval-keys}.
   */
  private String approvalJws(ChangeRequest cr, TokenClaims approver, String reason) {
    Map<String, Object> payload = new LinkedHashMap<>();
    payload.put("change_request", cr.id());
    payload.put("base_version", cr.baseVersion());
    payload.put("yaml_sha256", sha256(cr.yaml()));
    payload.put("diff_sha256", sha256(cr.diffJson()));
    payload.put("author", cr.author());
    payload.put("reason", cr.reason());
    payload.put("approver", approver.subject());
    payload.put("approver_client", approver.clientId());
    payload.put("approval_reason", reason);
    payload.put("approved_at", clock.instant().toString());
    return signingKey.signJws(APPROVAL_TYPE, JSON.writeValueAsString(payload));
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ProblemException closed(long id) {
    return new ProblemException(ProblemCode.ILLEGAL_TRANSITION, "change request " + id + " is no longer pending");
  }

  static ProblemException conflict(long expected, long current) {
    return new ProblemException(ProblemCode.VERSION_CONFLICT, "the change was based on config version " + expected
        + " but version " + current + " is the newest: reload, reapply, and send If-Match: \"" + current + "\"",
        null, List.of(), Map.of("ETag", "\"" + current + "\""));
  }

  static ProblemException invalidConfig(PolicyConfigException e) {
    List<Map<String, String>> violations = e.issues().stream().map(ConfigChanges::violation).toList();
    return new ProblemException(ProblemCode.INVALID_BODY, e.issues().size() + " problem(s) in the config", null,
        violations, Map.of());
  }

  private static Map<String, String> violation(ConfigIssue issue) {
    return Map.of("pointer", issue.path(), "location", issue.line() + ":" + issue.column(), "message", issue.message());
  }
}

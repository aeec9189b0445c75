package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditCursor;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditFilter;
import io.portcullis.audit.AuditQuery;
import io.portcullis.audit.EventType;
import io.portcullis.policy.Decision;
import io.portcullis.policy.DecisionRequest;
import io.portcullis.policy.PlannedColumn;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.App;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.LinkedHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@code simulate}: replays the last N audited data requests against the serving config and against a draft, and
 * reports per app which decisions would change (allow→deny, deny→allow, masks added or lifted — as
 * {@code column:mask}, so {@code email_domain} becoming {@code redact} shows as one of each — columns hidden or shown,
 * row filters changed) before anyone applies the draft.
 *
 * <p>An audit event keeps the app, the user ({@code actor_id}), the dataset, the action, the time and the client IP,
 * but not the token's scopes or ABAC attributes. Each request is therefore re-decided with the token a client of that
 * app would hold under each config: the scopes the app's grants cover there, and the app's own attributes (exact for
 * client-credentials tokens; for token-exchange users their IdP attributes are unknown and the app's stand in). Both
 * sides use the same reconstruction, so a difference in the report comes from the draft, not from the approximation.
 */
final class Simulator {

  static final int DEFAULT_REQUESTS = 500;
  static final int MAX_REQUESTS = 10_000;
  private static final int PAGE = 1_000;
  private static final int EXAMPLES_PER_APP = 5;
  static final List<String> APPROXIMATIONS = List.of(
      "token scopes: those the app's grants cover under each config (not the scopes the original token carried)",
      "token attrs: the app's own attrs (exact for client-credentials tokens; token-exchange users' IdP attrs are not"
          + " audited)",
      "method and path: derived from the audited action and dataset (read=GET, create=POST, update=PATCH,"
          + " delete=DELETE on /data/{dataset})");

  private final AuditQuery audit;

  Simulator(AuditQuery audit) {
    this.audit = audit;
  }

  Mono<Map<String, Object>> simulate(PolicySnapshot current, PolicySnapshot draft, int requests) {
    // up to 2 × 10,000 decisions: microseconds each, but not on the event loop
    return recentRequests(requests).collectList().publishOn(Schedulers.parallel())
        .map(events -> report(current, draft, events));
  }

  /** Newest first, only data requests made with a verified token (anything refused before that has no app). */
  private Flux<AuditEvent> recentRequests(int requests) {
    return page(null, requests, 0).take(requests);
  }

  private Flux<AuditEvent> page(@Nullable AuditCursor cursor, int wanted, int scanned) {
    // scan at most 4× the wanted count: admin and token events interleave with request events
    if (wanted <= 0 || scanned >= 4 * MAX_REQUESTS) {
      return Flux.empty();
    }
    return audit.find(AuditFilter.ANY, cursor, PAGE).collectList().flatMapMany(events -> {
      List<AuditEvent> usable = events.stream().filter(Simulator::replayable).toList();
      Flux<AuditEvent> here = Flux.fromIterable(usable);
      if (events.size() < PAGE || usable.size() >= wanted) {
        return here;
      }
      return here.concatWith(page(AuditCursor.after(events.get(events.size() - 1)), wanted - usable.size(),
          scanned + events.size()));
    });
  }

  static boolean replayable(AuditEvent e) {
    return e.eventType() == EventType.REQUEST && e.appId() != null && e.resourceId() != null
        && "dataset".equals(e.resourceType()) && action(e.action()) != null;
  }

  private static Map<String, Object> report(PolicySnapshot current, PolicySnapshot draft, List<AuditEvent> events) {
    Map<String, AppReport> apps = new TreeMap<>();
    Instant from = null;
    Instant to = null;
    int changed = 0;
    for (AuditEvent e : events) {
      from = from == null || e.timestamp().isBefore(from) ? e.timestamp() : from;
      to = to == null || e.timestamp().isAfter(to) ? e.timestamp() : to;
      Decision before = decide(current, e);
      Decision after = decide(draft, e);
      AppReport app = apps.computeIfAbsent(e.appId(), id -> new AppReport());
      if (app.record(e, before, after)) {
        changed++;
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("current_version", current.version());
    out.put("replayed", events.size());
    out.put("changed", changed);
    out.put("from", from == null ? null : from.toString());
    out.put("to", to == null ? null : to.toString());
    Map<String, Object> perApp = new LinkedHashMap<>();
    apps.forEach((id, r) -> perApp.put(id, r.toJson()));
    out.put("apps", perApp);
    out.put("approximations", APPROXIMATIONS);
    return out;
  }

  static Decision decide(PolicySnapshot snapshot, AuditEvent e) {
    Action action = action(e.action());
    App app = snapshot.app(e.appId());
    Map<String, Object> attrs = app == null ? Map.of() : app.attrs();
    int tier = app != null ? app.tier() : e.tier() == null ? 0 : e.tier();
    String subject = e.actorId() == null ? e.appId() : e.actorId();
    TokenClaims token = new TokenClaims(subject, e.appId(), snapshot.grantableScopes(e.appId()), tier, attrs,
        e.tokenId() == null ? "simulated" : e.tokenId(), e.timestamp().minus(Duration.ofMinutes(1)),
        e.timestamp().plus(Duration.ofHours(1)));
    return snapshot.decide(new DecisionRequest(token, e.resourceId(), action, method(action),
        "/data/" + e.resourceId(), e.clientIp(), e.timestamp()));
  }

  static @Nullable Action action(@Nullable String action) {
    if (action == null) {
      return null;
    }
    for (Action a : Action.values()) {
      if (a.scopeSuffix().equals(action)) {
        return a;
      }
    }
    return null;
  }

  private static String method(Action action) {
    return switch (action) {
      case READ -> "GET";
      case CREATE -> "POST";
      case UPDATE -> "PATCH";
      case DELETE -> "DELETE";
    };
  }

  /** Counts and a few examples of what would change for one app. */
  private static final class AppReport {
    int requests;
    int unchanged;
    int allowToDeny;
    int denyToAllow;
    int denyReasonChanged;
    int rowFilterChanged;
    final Map<String, Integer> newMasks = new TreeMap<>();
    final Map<String, Integer> liftedMasks = new TreeMap<>();
    final Map<String, Integer> newlyHidden = new TreeMap<>();
    final Map<String, Integer> newlyVisible = new TreeMap<>();
    final List<Map<String, Object>> examples = new ArrayList<>();

    /** True when the draft decides this request differently. */
    boolean record(AuditEvent e, Decision before, Decision after) {
      requests++;
      boolean changed;
      if (before.allowed() && !after.allowed()) {
        allowToDeny++;
        changed = true;
      } else if (!before.allowed() && after.allowed()) {
        denyToAllow++;
        changed = true;
      } else if (!before.allowed()) {
        changed = before.denyCode() != after.denyCode();
        if (changed) {
          denyReasonChanged++;
        }
      } else {
        Set<String> masksBefore = masks(before);
        Set<String> masksAfter = masks(after);
        changed = count(newMasks, minus(masksAfter, masksBefore))
            | count(liftedMasks, minus(masksBefore, masksAfter))
            | count(newlyHidden, minus(after.columns().hiddenColumns(), before.columns().hiddenColumns()))
            | count(newlyVisible, minus(before.columns().hiddenColumns(), after.columns().hiddenColumns()));
        if (!before.rowFilter().fingerprint().equals(after.rowFilter().fingerprint())) {
          rowFilterChanged++;
          changed = true;
        }
      }
      if (!changed) {
        unchanged++;
      } else if (examples.size() < EXAMPLES_PER_APP) {
        Map<String, Object> ex = new LinkedHashMap<>();
        ex.put("event_id", e.eventId().toString());
        ex.put("timestamp", e.timestamp().toString());
        ex.put("actor_id", e.actorId());
        ex.put("dataset", e.resourceId());
        ex.put("action", e.action());
        ex.put("before", describe(before));
        ex.put("after", describe(after));
        examples.add(ex);
      }
      return changed;
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("requests", requests);
      m.put("unchanged", unchanged);
      m.put("allow_to_deny", allowToDeny);
      m.put("deny_to_allow", denyToAllow);
      m.put("deny_reason_changed", denyReasonChanged);
      m.put("row_filter_changed", rowFilterChanged);
      m.put("new_masks", newMasks);
      m.put("lifted_masks", liftedMasks);
      m.put("newly_hidden_columns", newlyHidden);
      m.put("newly_visible_columns", newlyVisible);
      m.put("examples", examples);
      return m;
    }

    private static boolean count(Map<String, Integer> counts, Set<String> columns) {
      columns.forEach(c -> counts.merge(c, 1, Integer::sum));
      return !columns.isEmpty();
    }

    /** {@code column:mask} of every masked column, so a changed mask function counts too. */
    private static Set<String> masks(Decision d) {
      Set<String> out = new TreeSet<>();
      for (PlannedColumn c : d.columns().columns()) {
        if (c.mask() != null) {
          out.add(c.name() + ":" + c.mask().spec());
        }
      }
      return out;
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
      Set<String> out = new TreeSet<>(a);
      out.removeAll(b);
      return out;
    }

    private static Map<String, Object> describe(Decision d) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("allowed", d.allowed());
      if (!d.allowed()) {
        m.put("code", d.denyCode().code());
        m.put("reason", d.reason());
      } else {
        m.put("masks", masks(d));
        m.put("hidden_columns", new TreeSet<>(d.columns().hiddenColumns()));
        m.put("row_filter", d.rowFilter().isEmpty() ? null : d.rowFilter().fingerprint());
      }
      m.put("policy_ids", d.policyIds());
      return m;
    }
  }

  static int parseRequests(String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n >= 1 && n <= MAX_REQUESTS) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through
    }
    throw new io.portcullis.gateway.problem.ProblemException(io.portcullis.gateway.problem.ProblemCode.INVALID_QUERY,
        "requests: " + value + " (expected: 1.." + MAX_REQUESTS + ")");
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}

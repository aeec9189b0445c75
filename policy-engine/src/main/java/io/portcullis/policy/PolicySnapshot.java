package io.portcullis.policy;

import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.AppStatus;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.Template;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One compiled, immutable version of the policy configuration. Thread-safe and lock-free: {@link #decide} reads only
 * final fields and immutable maps, so a gateway swaps whole snapshots by reference when the config changes.
 */
public final class PolicySnapshot {
  /** Per dataset: its scopes and denials by action ordinal, built once. */
  record DatasetEntry(Dataset dataset, String[] scopes, Decision[] scopeMissing, Decision methodNotAllowed) {}

  /** Per app: its paused denial and its no-grant denials by action ordinal (its grants are in the {@link GrantIndex}). */
  record AppEntry(App app, Set<String> grantableScopes, Decision paused, Decision[] noGrant) {}

  private final long version;
  private final PolicyConfig config;
  private final Map<String, DatasetEntry> datasets;
  private final Map<String, AppEntry> apps;
  private final GrantIndex grants;
  private final Map<String, String> conditionEngines;
  private final Clock clock;

  PolicySnapshot(long version, PolicyConfig config, Map<String, DatasetEntry> datasets, Map<String, AppEntry> apps,
      GrantIndex grants, Map<String, String> conditionEngines, Clock clock) {
    this.version = version;
    this.config = config;
    this.datasets = Map.copyOf(datasets);
    this.apps = Map.copyOf(apps);
    this.grants = grants;
    this.conditionEngines = Map.copyOf(conditionEngines);
    this.clock = clock;
  }

  public long version() {
    return version;
  }

  public PolicyConfig config() {
    return config;
  }

  public @Nullable App app(String id) {
    AppEntry e = apps.get(id);
    return e == null ? null : e.app();
  }

  public @Nullable Dataset dataset(String name) {
    DatasetEntry e = datasets.get(name);
    return e == null ? null : e.dataset();
  }

  /** The scopes the app's grants cover ({@code dataset:action}); the broker intersects requested scopes with it. */
  public Set<String> grantableScopes(String appId) {
    AppEntry e = apps.get(appId);
    return e == null ? Set.of() : e.grantableScopes();
  }

  /**
   * For each condition in the config (by path, e.g. {@code grants[3].condition}): {@code java} when compiled to plain
   * Java predicates, {@code cel} when it runs on the CEL interpreter.
   */
  public Map<String, String> conditionEngines() {
    return conditionEngines;
  }

  /**
   * Decides one request. Never throws: a malformed request, or a failure inside evaluation, is a deny with a reason.
   * Order: unknown dataset, method the template forbids, unknown or paused app, missing scope, no grant, grant
   * condition, then the built-in and custom policy blocks (deny overrides allow).
   */
  public Decision decide(DecisionRequest request) {
    try {
      return decideChecked(request);
    } catch (RuntimeException e) {
      // the boundary promised to callers: fail closed, never propagate (the reason names the failure for audit)
      return Decision.deny(DenyCode.POLICY_DENIED, "policy evaluation failed: " + e.getClass().getSimpleName(),
          List.of(), version);
    }
  }

  private Decision decideChecked(@Nullable DecisionRequest r) {
    if (r == null || r.token() == null || r.action() == null) {
      return Decision.deny(DenyCode.POLICY_DENIED,
          "invalid request: " + (r == null ? "null" : r.token() == null ? "no token" : "no action"), List.of(),
          version);
    }
    String datasetName = r.dataset();
    DatasetEntry d = datasetName == null ? null : datasets.get(datasetName);
    if (d == null) {
      return Decision.deny(DenyCode.UNKNOWN_DATASET, "unknown dataset " + datasetName, List.of(), version);
    }
    Action action = r.action();
    if (!d.dataset().template().permits(action)) {
      return d.methodNotAllowed();
    }
    TokenClaims token = r.token();
    String clientId = token.clientId();
    int ai = action.ordinal();
    // one probe finds a granted (app, dataset, action); the map lookups below serve only requests without a grant
    GrantIndex.Entry g = grants.find(clientId, d, datasetName.hashCode(), ai);
    if (g != null) {
      if (g.paused() != null) {
        return g.paused();
      }
      if (!token.scopes().contains(d.scopes()[ai])) {
        return d.scopeMissing()[ai];
      }
      Decision fixed = g.fixed();
      if (fixed != null) {
        return fixed;
      }
      Instant now = r.time() != null ? r.time() : clock.instant();
      return g.plan().decide(new EvalContext(token, g.app(), r, now));
    }
    // no grant: the same order of checks, so that an unknown or paused app or a missing scope still says so
    AppEntry a = apps.get(clientId);
    if (a == null) {
      return Decision.deny(DenyCode.POLICY_DENIED, "unknown app " + clientId, List.of(), version);
    }
    if (a.app().status() != AppStatus.ACTIVE) {
      return a.paused();
    }
    if (!token.scopes().contains(d.scopes()[ai])) {
      return d.scopeMissing()[ai];
    }
    return a.noGrant()[ai];
  }

  static Decision methodNotAllowed(Dataset d, long version) {
    Template t = d.template();
    return Decision.deny(DenyCode.METHOD_NOT_ALLOWED, t.yamlName() + " dataset " + d.name()
        + " accepts only the actions its template allows", List.of(), version);
  }
}

package io.portcullis.policy;

import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.Grant;
import io.portcullis.policy.model.PolicyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A generated configuration of {@value #APPS} apps, {@value #DATASETS} datasets and {@value #GRANTS} grants, and a
 * precomputed, shuffled mix of {@value #MIX} requests over it, shared by {@link LargeConfigDecideBenchmark} and the
 * peer baselines so that every engine judges exactly the same requests.
 *
 * <p>Datasets come in four kinds (index mod 4): {@code 0} sandbox-tagged, plain; {@code 1} {@code directory} template
 * (owner-scoped-read adds {@code owner_id = token.attrs.owner_id}); {@code 2} pii columns without consent
 * (pii-needs-consent redacts them); {@code 3} untagged, plain (tier 0 apps are refused there). App {@code i} is tier 0
 * when {@code i % 10 == 5}, else tier 1 or 2, and holds ten grants, on datasets {@code (i + 20k) mod 200}. Grant actions:
 * {@code [read, update]} on directory datasets, {@code [read]} elsewhere. Grant 0 of app {@value #JAVA_CONDITION_APP} carries a condition compiled to
 * Java, grant 0 of app {@value #CEL_CONDITION_APP} one that needs the CEL interpreter.
 */
final class LargeConfigFixture {
  static final int APPS = 10_000;
  static final int DATASETS = 200;
  static final int GRANTS_PER_APP = 10;
  static final int GRANTS = APPS * GRANTS_PER_APP;
  static final int MIX = 1024;
  static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

  /** What a request of the mix is meant to exercise, and so what its decision must be. */
  enum Kind {
    ALLOWED(true), SCOPE_MISSING(false), NO_GRANT(false), TIER0_SANDBOX(false), ROW_FILTERED(true), MASKED(true);

    final boolean allowed;

    Kind(boolean allowed) {
      this.allowed = allowed;
    }
  }

  /**
   * One request of the mix with the facts a peer needs to judge it: the row owner for the row-level owner condition
   * (equal to the token's owner_id, so that the peer's per-row answer matches the filter Portcullis returns).
   */
  record Case(Kind kind, DecisionRequest request, String app, int tier, String dataset, Action action,
      List<String> scopes, String ownerId, String rowOwner) {}

  static String appId(int i) {
    return "app-%05d".formatted(i);
  }

  private static final String[] DATASET_NAMES = java.util.stream.IntStream.range(0, DATASETS)
      .mapToObj(d -> "ds-%03d".formatted(d)).toArray(String[]::new);

  static String datasetName(int d) {
    return DATASET_NAMES[d];
  }

  static int kindOf(int d) {
    return d % 4;
  }

  static int tierOf(int app) {
    return app % 10 == 5 ? 0 : 1 + app % 2;
  }

  /** Dataset index of grant {@code k} of app {@code i}. */
  static int grantDataset(int app, int k) {
    return (app + 20 * k) % DATASETS;
  }

  static Set<Action> grantActions(int d) {
    return kindOf(d) == 1 ? Set.of(Action.READ, Action.UPDATE) : Set.of(Action.READ);
  }

  /** The app whose grant 0 carries a condition compiled to plain Java, and the one whose condition runs on CEL. */
  static final int JAVA_CONDITION_APP = 1;
  static final int CEL_CONDITION_APP = 3;

  static String yaml() {
    StringBuilder y = new StringBuilder(12 << 20);
    y.append("settings: {pii_mode: mask}\napps:\n");
    for (int i = 0; i < APPS; i++) {
      y.append("  - {id: ").append(appId(i)).append(", tier: ").append(tierOf(i)).append(", team: t")
          .append(i % 50).append("}\n");
    }
    y.append("datasets:\n");
    for (int d = 0; d < DATASETS; d++) {
      String name = datasetName(d);
      y.append("  - name: ").append(name).append('\n');
      switch (kindOf(d)) {
        case 0 -> y.append("    tags: [sandbox]\n    columns: [{name: id, type: bigint}, {name: title, type: text},"
            + " {name: team_id, type: text}]\n");
        case 1 -> y.append("    template: directory\n    columns: [{name: id, type: uuid}, {name: owner_id, type: text},"
            + " {name: title, type: text}]\n");
        case 2 -> y.append("    tags: [pii]\n    columns: [{name: id, type: bigint}, {name: owner_id, type: text},"
            + " {name: email, type: text, tags: [pii]}, {name: phone, type: text, tags: [pii]},"
            + " {name: amount, type: numeric}]\n");
        default -> y.append("    columns: [{name: id, type: bigint}, {name: title, type: text}]\n");
      }
      y.append("    source: {type: postgres, schema: bench, table: t").append(d).append("}\n");
    }
    y.append("grants:\n");
    for (int i = 0; i < APPS; i++) {
      for (int k = 0; k < GRANTS_PER_APP; k++) {
        int d = grantDataset(i, k);
        y.append("  - {id: g-").append(i).append('-').append(k).append(", app: ").append(appId(i))
            .append(", dataset: ").append(datasetName(d)).append(", actions: [")
            .append(grantActions(d).contains(Action.UPDATE) ? "read, update" : "read").append(']');
        String condition = conditionOf(i, k);
        if (condition != null) {
          y.append(", condition: \"").append(condition).append('"');
        }
        y.append("}\n");
      }
    }
    return y.toString();
  }

  static String conditionOf(int app, int k) {
    return k != 0 ? null
        : app == JAVA_CONDITION_APP ? "token.attrs.level >= 2 && request.method == 'GET'"
        : app == CEL_CONDITION_APP ? "token.attrs.level >= 2 && request.method.startsWith('GE')"
        : null;
  }

  static PolicySnapshot compile() throws Exception {
    CompileOptions options = new CompileOptions(1, "benchmark-hash-key-0123".getBytes(StandardCharsets.UTF_8),
        Clock.fixed(NOW, ZoneOffset.UTC));
    // the whole fleet goes through the same YAML loader as the GitOps import and the admin API
    PolicyConfig config = PolicyConfigLoader.parse(yaml(), "generated.yaml");
    PolicySnapshot s = PolicyCompiler.compile(config, options);
    if (s.config().apps().size() != APPS || s.config().grants().size() != GRANTS) {
      throw new IllegalStateException("generated config: " + s.config().apps().size() + " apps, "
          + s.config().grants().size() + " grants");
    }
    return s;
  }

  /** The grants' scopes of app {@code i}: what the broker would put in its token. */
  static List<String> grantedScopes(int app) {
    Set<String> scopes = new LinkedHashSet<>();
    for (int k = 0; k < GRANTS_PER_APP; k++) {
      int d = grantDataset(app, k);
      for (Action a : grantActions(d)) {
        scopes.add(scope(datasetName(d), a));
      }
    }
    return new ArrayList<>(scopes);
  }

  static String scope(String dataset, Action a) {
    return dataset + ":" + a.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** {@value #MIX} requests, an equal share of each {@link Kind}, shuffled with a fixed seed. */
  static List<Case> mix() {
    Random rnd = new Random(42);
    List<Case> cases = new ArrayList<>(MIX);
    Kind[] kinds = Kind.values();
    for (int n = 0; n < MIX; n++) {
      cases.add(one(kinds[n % kinds.length], rnd));
    }
    Collections.shuffle(cases, rnd);
    return List.copyOf(cases);
  }

  static Case one(Kind kind, Random rnd) {
    for (int attempt = 0; ; attempt++) {
      if (attempt > 100_000) {
        throw new IllegalStateException("the generated config has no request of kind " + kind);
      }
      int app = rnd.nextInt(APPS);
      if (app == JAVA_CONDITION_APP || app == CEL_CONDITION_APP) {
        continue;
      }
      int tier = tierOf(app);
      if ((kind == Kind.TIER0_SANDBOX) != (tier == 0)) {
        continue;
      }
      int k = rnd.nextInt(GRANTS_PER_APP);
      int d = grantDataset(app, k);
      int dk = kindOf(d);
      List<String> scopes = new ArrayList<>(grantedScopes(app));
      Action action = Action.READ;
      switch (kind) {
        case ALLOWED -> {
          if (dk != 0 && dk != 3) {
            continue;
          }
        }
        case ROW_FILTERED -> {
          if (dk != 1) {
            continue;
          }
          action = rnd.nextBoolean() ? Action.READ : Action.UPDATE;
        }
        case MASKED -> {
          if (dk != 2) {
            continue;
          }
        }
        case TIER0_SANDBOX -> {
          if (dk != 3) {
            continue;
          }
        }
        case SCOPE_MISSING -> scopes.remove(scope(datasetName(d), action));
        case NO_GRANT -> {
          // a dataset the app holds no grant on (its grants are d ≡ app mod 20), yet the token carries its scope
          d = (app + 1 + rnd.nextInt(19)) % DATASETS;
          if (kindOf(d) == 1) {
            continue;
          }
          scopes.add(scope(datasetName(d), action));
        }
        default -> throw new AssertionError(kind);
      }
      String dataset = datasetName(d);
      String owner = "u" + rnd.nextInt(100_000);
      TokenClaims token = new TokenClaims(owner, appId(app), new LinkedHashSet<>(scopes), tier,
          Map.of("owner_id", owner, "team_id", "t" + (app % 50)), "jti-" + rnd.nextLong(), NOW,
          NOW.plusSeconds(600));
      String method = action == Action.READ ? "GET" : "PATCH";
      DecisionRequest r = new DecisionRequest(token, dataset, action, method, "/data/" + dataset, "10.0.0.1", NOW);
      return new Case(kind, r, appId(app), tier, dataset, action, List.copyOf(scopes), owner, owner);
    }
  }

  /** Fails unless every request of the mix gets the decision its kind promises. */
  static void check(PolicySnapshot s, List<Case> cases) {
    Map<Kind, Integer> seen = new EnumMap<>(Kind.class);
    for (Case c : cases) {
      Decision d = s.decide(c.request());
      boolean ok = d.allowed() == c.kind().allowed && switch (c.kind()) {
        case SCOPE_MISSING -> d.denyCode() == DenyCode.SCOPE_MISSING;
        case NO_GRANT, TIER0_SANDBOX -> d.denyCode() == DenyCode.POLICY_DENIED;
        case ALLOWED -> d.rowFilter().isEmpty() && d.columns().maskedColumns().isEmpty();
        case ROW_FILTERED -> !d.rowFilter().isEmpty();
        case MASKED -> !d.columns().maskedColumns().isEmpty();
      };
      if (!ok) {
        throw new IllegalStateException(c.kind() + " " + c.request() + " decided " + d);
      }
      seen.merge(c.kind(), 1, Integer::sum);
    }
    if (seen.size() != Kind.values().length) {
      throw new IllegalStateException("mix misses kinds: " + seen);
    }
  }

  private LargeConfigFixture() {}
}

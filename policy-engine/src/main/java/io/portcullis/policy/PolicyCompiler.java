package io.portcullis.policy;

import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.LocatedConfig;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.SourceMap;
import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.AppStatus;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.Effect;
import io.portcullis.policy.model.Grant;
import io.portcullis.policy.model.HttpRoute;
import io.portcullis.policy.model.HttpSource;
import io.portcullis.policy.model.PolicyBlock;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.Selector;
import io.portcullis.policy.model.Template;
import io.portcullis.policy.model.TemplateColumns;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Validates a {@link PolicyConfig} completely (references, CEL, the push-down subset, masks, columns) and compiles it
 * into an immutable {@link PolicySnapshot}. All issues are reported together; nothing half-compiled escapes.
 */
public final class PolicyCompiler {
  /** Column names are emitted as quoted identifiers and must never need escaping or contain a bind marker. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  private PolicyCompiler() {}

  public static PolicySnapshot compile(PolicyConfig config, CompileOptions options) throws PolicyConfigException {
    return compile(new LocatedConfig(config, SourceMap.NONE), options);
  }

  /** As {@link #compile(PolicyConfig, CompileOptions)}, with issues positioned in the YAML the config came from. */
  public static PolicySnapshot compile(LocatedConfig located, CompileOptions options) throws PolicyConfigException {
    Objects.requireNonNull(located, "located");
    Objects.requireNonNull(options, "options");
    Run run = new Run(located.config(), located.sourceMap(), options);
    PolicySnapshot snapshot = run.compile();
    if (!run.issues.isEmpty()) {
      throw new PolicyConfigException(List.copyOf(new LinkedHashSet<>(run.issues)));
    }
    return snapshot;
  }

  private static final class Run {
    final PolicyConfig config;
    final SourceMap sm;
    final CompileOptions options;
    final long version;
    final List<ConfigIssue> issues = new ArrayList<>();
    final Map<String, App> apps = new LinkedHashMap<>();
    final Map<String, Dataset> datasets = new LinkedHashMap<>();
    final Map<String, Integer> datasetIndex = new HashMap<>();
    final Map<String, Mask> masks = new HashMap<>();
    final Map<String, String> conditionEngines = new LinkedHashMap<>();
    final Map<String, PolicyBlock> builtinConfig = new HashMap<>();
    final Map<String, Integer> blockIndex = new HashMap<>();
    final Map<String, Cond> blockConditions = new HashMap<>();
    /** Block row filters compiled per dataset (columns differ), memoised: key blockId + '\0' + dataset. */
    final Map<String, RowExpr> blockRowFilters = new HashMap<>();

    Run(PolicyConfig config, SourceMap sm, CompileOptions options) {
      this.config = config;
      this.sm = sm;
      this.options = options;
      this.version = options.version();
    }

    CelEnv.Site site(String path) {
      return new CelEnv.Site(sm, path, issues);
    }

    void issue(String path, String message) {
      issues.add(sm.issue(path, message));
    }

    PolicySnapshot compile() {
      config.apps().forEach(a -> apps.putIfAbsent(a.id(), a));
      for (int i = 0; i < config.datasets().size(); i++) {
        Dataset d = config.datasets().get(i);
        datasets.putIfAbsent(d.name(), d);
        datasetIndex.putIfAbsent(d.name(), i);
      }
      validateSettings();
      validateApps();
      validateDatasets();
      validateBlocks();

      Map<String, Map<String, GrantPlan[]>> plans = new HashMap<>();
      Map<String, Set<String>> scopes = new HashMap<>();
      Map<String, String> seen = new HashMap<>();
      for (int i = 0; i < config.grants().size(); i++) {
        Grant g = config.grants().get(i);
        String path = "grants[" + i + "]";
        App app = apps.get(g.app());
        Dataset d = datasets.get(g.dataset());
        if (app == null) {
          issue(path + ".app", "unknown app '" + g.app() + "'");
        }
        if (d == null) {
          issue(path + ".dataset", "unknown dataset '" + g.dataset() + "'");
        }
        if (app == null || d == null) {
          continue;
        }
        for (Action a : Action.values()) {
          if (!g.actions().contains(a)) {
            continue;
          }
          if (!d.template().permits(a)) {
            issue(path + ".actions", d.template().yamlName() + " dataset " + d.name() + " does not allow "
                + a.scopeSuffix());
            continue;
          }
          String key = g.app() + "\0" + g.dataset() + "\0" + a;
          String other = seen.putIfAbsent(key, path);
          if (other != null) {
            issue(path, "app " + g.app() + " already has a " + a.scopeSuffix() + " grant on " + g.dataset()
                + " (" + other + ")");
          }
        }
        GrantPlan[] byAction = compileGrant(g, path, app, d);
        if (byAction == null) {
          continue;
        }
        GrantPlan[] merged = plans.computeIfAbsent(g.app(), k -> new HashMap<>())
            .computeIfAbsent(g.dataset(), k -> new GrantPlan[Action.values().length]);
        for (Action a : Action.values()) {
          if (byAction[a.ordinal()] != null && merged[a.ordinal()] == null) {
            merged[a.ordinal()] = byAction[a.ordinal()];
            scopes.computeIfAbsent(g.app(), k -> new LinkedHashSet<>()).add(g.dataset() + ":" + a.scopeSuffix());
          }
        }
      }

      Map<String, PolicySnapshot.DatasetEntry> dEntries = new HashMap<>();
      for (Dataset d : datasets.values()) {
        String[] s = new String[Action.values().length];
        Decision[] missing = new Decision[s.length];
        for (Action a : Action.values()) {
          s[a.ordinal()] = d.name() + ":" + a.scopeSuffix();
          missing[a.ordinal()] = Decision.deny(DenyCode.SCOPE_MISSING, "token lacks scope " + s[a.ordinal()],
              List.of(), version);
        }
        dEntries.put(d.name(), new PolicySnapshot.DatasetEntry(d, s, missing,
            PolicySnapshot.methodNotAllowed(d, version)));
      }
      Map<String, PolicySnapshot.AppEntry> aEntries = new HashMap<>();
      List<GrantIndex.Entry> granted = new ArrayList<>();
      for (App app : apps.values()) {
        Decision paused = Decision.deny(DenyCode.APP_PAUSED, "app " + app.id() + " is " + app.status().yamlName(),
            List.of(), version);
        Decision[] noGrant = new Decision[Action.values().length];
        for (Action a : Action.values()) {
          noGrant[a.ordinal()] = Decision.deny(DenyCode.POLICY_DENIED, "no grant lets app " + app.id() + " "
              + a.scopeSuffix() + " this dataset", List.of(), version);
        }
        aEntries.put(app.id(), new PolicySnapshot.AppEntry(app, Set.copyOf(scopes.getOrDefault(app.id(), Set.of())),
            paused, noGrant));
        for (Map.Entry<String, GrantPlan[]> byDataset : plans.getOrDefault(app.id(), Map.of()).entrySet()) {
          PolicySnapshot.DatasetEntry d = dEntries.get(byDataset.getKey());
          GrantPlan[] byAction = byDataset.getValue();
          for (int a = 0; a < byAction.length; a++) {
            GrantPlan p = byAction[a];
            if (p != null) {
              granted.add(new GrantIndex.Entry(app.id(), d, a, app.status() == AppStatus.ACTIVE ? null : paused,
                  p.fixed, p, app));
            }
          }
        }
      }
      return new PolicySnapshot(version, config, dEntries, aEntries, new GrantIndex(granted), conditionEngines,
          options.clock());
    }

    // ---- validation of the parts a grant refers to --------------------------------------------------------

    void validateSettings() {
      for (String b : config.settings().disabledBuiltins()) {
        if (!Builtins.ALL.contains(b)) {
          issue("settings.disabled_builtins", "unknown built-in '" + b + "' (expected one of: "
              + String.join(", ", Builtins.ALL) + ")");
        }
      }
      if (!config.settings().piiMode().equals("mask") && !config.settings().piiMode().equals("deny")) {
        issue("settings.pii_mode", "'" + config.settings().piiMode() + "' (expected one of: mask, deny)");
      }
    }

    void validateApps() {
      for (int i = 0; i < config.apps().size(); i++) {
        App a = config.apps().get(i);
        for (String c : a.consents()) {
          if (!datasets.containsKey(c)) {
            issue("apps[" + i + "].consents", "unknown dataset '" + c + "'");
          }
        }
      }
    }

    void validateDatasets() {
      Set<String> routes = new LinkedHashSet<>();
      config.routes().stream().map(HttpRoute::id).forEach(routes::add);
      for (int i = 0; i < config.datasets().size(); i++) {
        Dataset d = config.datasets().get(i);
        String path = "datasets[" + i + "]";
        for (int c = 0; c < d.columns().size(); c++) {
          String name = d.columns().get(c).name();
          if (!IDENTIFIER.matcher(name).matches()) {
            issue(path + ".columns[" + c + "].name", "column name '" + name
                + "' (expected: letters, digits and _, not starting with a digit, at most 63 characters)");
          }
        }
        if (d.source() instanceof HttpSource h && !routes.contains(h.route())) {
          issue(path + ".source.route", "unknown route '" + h.route() + "'");
        }
        TemplateColumns r = d.roles();
        checkRole(d, path, "owner", r.owner());
        checkRole(d, path, "soft_delete", r.softDelete());
        checkRole(d, path, "state", r.state());
        checkRole(d, path, "reviewer", r.reviewer());
        checkRole(d, path, "created_at", r.createdAt());
        if (d.template() == Template.DIRECTORY && r.owner() == null) {
          issue(path + ".roles.owner", "a directory dataset needs an owner column");
        }
        if (d.template() == Template.APPROVAL_QUEUE && r.state() == null) {
          issue(path + ".roles.state", "an approval-queue dataset needs a state column");
        }
      }
    }

    void checkRole(Dataset d, String path, String role, @Nullable String column) {
      if (column != null && d.column(column) == null) {
        issue(path + ".roles." + role, "role column '" + column + "' is not a declared column of " + d.name());
      }
    }

    void validateBlocks() {
      for (int i = 0; i < config.policies().size(); i++) {
        PolicyBlock b = config.policies().get(i);
        String path = "policies[" + i + "]";
        blockIndex.put(b.id(), i);
        if (b.builtin() != null) {
          if (!Builtins.ALL.contains(b.builtin())) {
            issue(path + ".builtin", "unknown built-in '" + b.builtin() + "' (expected one of: "
                + String.join(", ", Builtins.ALL) + ")");
          } else if (builtinConfig.putIfAbsent(b.builtin(), b) != null) {
            issue(path + ".builtin", "built-in '" + b.builtin() + "' is already configured by policy block "
                + builtinConfig.get(b.builtin()).id());
          }
          if (!b.masks().isEmpty()) {
            issue(path + ".masks", "a built-in block takes no masks");
          }
          if ((b.condition() != null || b.rowFilter() != null) && !Builtins.RESIDENCY.equals(b.builtin())) {
            issue(path, "only the residency built-in takes a condition or row_filter");
          }
        }
        Selector s = b.appliesTo();
        for (String ds : s.datasets()) {
          if (!datasets.containsKey(ds)) {
            issue(path + ".applies_to.datasets", "unknown dataset '" + ds + "'");
          }
        }
        for (String ap : s.apps()) {
          if (!apps.containsKey(ap)) {
            issue(path + ".applies_to.apps", "unknown app '" + ap + "'");
          }
        }
        if (b.condition() != null) {
          ExprCompiler.CompiledCondition c = ExprCompiler.condition(b.condition(), site(path + ".condition"));
          if (c != null) {
            blockConditions.put(b.id(), c.cond());
            conditionEngines.put(path + ".condition", c.java() ? "java" : "cel");
          }
        }
        for (Map.Entry<String, String> m : b.masks().entrySet()) {
          mask(m.getValue(), path + ".masks." + m.getKey());
        }
        if (b.rowFilter() != null) {
          // checked against every dataset the block reaches: a filter naming a missing column is a config error
          for (Dataset d : datasets.values()) {
            if (s.datasets().isEmpty() ? (s.tags().isEmpty() || intersects(s.tags(), d.tags()))
                : s.datasets().contains(d.name())) {
              blockRowFilter(b, path, d);
            }
          }
        }
      }
    }

    @Nullable RowExpr blockRowFilter(PolicyBlock b, String path, Dataset d) {
      String key = b.id() + "\0" + d.name();
      if (blockRowFilters.containsKey(key)) {
        return blockRowFilters.get(key);
      }
      RowExpr r = ExprCompiler.rowFilter(Objects.requireNonNull(b.rowFilter()), d, site(path + ".row_filter"));
      blockRowFilters.put(key, r);
      return r;
    }

    /** Validates a mask spec once and caches the Mask so every plan shares it. */
    boolean mask(String spec, String path) {
      if (Masks.rank(spec) < 0) {
        Masks.parse(spec, options.hashKey(), site(path));
        return false;
      }
      if (spec.equals("keep") || spec.equals("drop") || masks.containsKey(spec)) {
        return true;
      }
      Mask m = Masks.parse(spec, options.hashKey(), site(path));
      if (m == null) {
        return false;
      }
      masks.put(spec, m);
      return true;
    }

    // ---- one grant ------------------------------------------------------------------------------------------

    GrantPlan @Nullable [] compileGrant(Grant g, String path, App app, Dataset d) {
      int before = issues.size();
      Cond condition = null;
      if (g.condition() != null) {
        ExprCompiler.CompiledCondition c = ExprCompiler.condition(g.condition(), site(path + ".condition"));
        if (c != null) {
          condition = c.cond();
          conditionEngines.put(path + ".condition", c.java() ? "java" : "cel");
        }
      }
      RowExpr grantFilter = null;
      if (g.rowFilter() != null) {
        grantFilter = ExprCompiler.rowFilter(g.rowFilter(), d, site(path + ".row_filter"));
      }

      // columns: allow list, deny list, grant masks
      Map<String, String> specs = new LinkedHashMap<>();
      Set<String> hidden = new LinkedHashSet<>();
      if (g.columns().allow() != null) {
        Set<String> allow = new LinkedHashSet<>();
        for (int i = 0; i < g.columns().allow().size(); i++) {
          String c = g.columns().allow().get(i);
          if (d.column(c) == null) {
            issue(path + ".columns.allow[" + i + "]", unknownColumn(c, d));
          }
          allow.add(c);
        }
        d.columns().stream().map(Column::name).filter(c -> !allow.contains(c)).forEach(hidden::add);
      }
      for (int i = 0; i < g.columns().deny().size(); i++) {
        String c = g.columns().deny().get(i);
        if (d.column(c) == null) {
          issue(path + ".columns.deny[" + i + "]", unknownColumn(c, d));
        }
        hidden.add(c);
      }
      for (Map.Entry<String, String> m : g.columns().masks().entrySet()) {
        String mp = path + ".columns.masks." + m.getKey();
        if (d.column(m.getKey()) == null) {
          issue(mp, unknownColumn(m.getKey(), d));
        } else if (mask(m.getValue(), mp)) {
          specs.put(m.getKey(), m.getValue());
        }
      }
      if (issues.size() > before) {
        return null;
      }

      GrantPlan[] out = new GrantPlan[Action.values().length];
      for (Action a : Action.values()) {
        if (g.actions().contains(a) && d.template().permits(a)) {
          out[a.ordinal()] = plan(g, a, app, d, condition, grantFilter, new LinkedHashMap<>(specs), hidden);
        }
      }
      return out;
    }

    GrantPlan plan(Grant g, Action action, App app, Dataset d, @Nullable Cond condition,
        @Nullable RowExpr grantFilter, Map<String, String> specs, Set<String> hidden) {
      List<String> ids = new ArrayList<>();
      ids.add(g.id());
      List<RowExpr> filters = new ArrayList<>();
      if (grantFilter != null) {
        filters.add(grantFilter);
      }
      List<GrantPlan.DenyCheck> denyChecks = new ArrayList<>();
      List<GrantPlan.ConditionalMask> conditionalMasks = new ArrayList<>();
      Decision staticDeny = null;

      // regulated-needs-approval, tier0-sandbox-only: fixed by config, decided now
      if (active(Builtins.REGULATED_NEEDS_APPROVAL, app, d) && d.tags().contains("regulated")
          && g.approval() == null) {
        String id = builtinId(Builtins.REGULATED_NEEDS_APPROVAL);
        staticDeny = Decision.deny(DenyCode.APPROVAL_MISSING, "dataset " + d.name()
            + " is regulated and grant " + g.id() + " has no recorded approval", List.of(g.id(), id), version);
      }
      if (staticDeny == null && active(Builtins.TIER0_SANDBOX_ONLY, app, d) && app.tier() == 0
          && !d.tags().contains("sandbox") && !d.tags().contains("synthetic")) {
        String id = builtinId(Builtins.TIER0_SANDBOX_ONLY);
        staticDeny = Decision.deny(DenyCode.POLICY_DENIED, "tier 0 app " + app.id()
            + " may only reach sandbox or synthetic datasets", List.of(g.id(), id), version);
      }

      // owner-scoped-read and admin-read (directory template)
      if (d.template() == Template.DIRECTORY && action != Action.CREATE
          && active(Builtins.OWNER_SCOPED_READ, app, d) && d.roles().owner() != null
          && d.column(d.roles().owner()) != null) {
        RowExpr owner = new RowExpr.Compare(Cond.Op.EQ, d.column(d.roles().owner()),
            new Operand.Attr(Operand.Attr.T_ATTRS, new String[] {"owner_id"}, "token.attrs.owner_id"));
        ids.add(builtinId(Builtins.OWNER_SCOPED_READ));
        if (action == Action.READ && active(Builtins.ADMIN_READ, app, d)) {
          Cond admin = new Cond.In(new Operand.Literal(Builtins.ADMIN_READ_SCOPE),
              new Operand.Attr(Operand.Attr.T_SCOPE, new String[0], "token.scope"));
          owner = new RowExpr.Or(List.of(owner, new RowExpr.TokenTerm(admin, false, "'admin:read' in token.scope")));
          ids.add(builtinId(Builtins.ADMIN_READ));
        }
        filters.add(owner);
      }

      // residency: the dataset's region tags, and columns tagged region
      if (active(Builtins.RESIDENCY, app, d)) {
        PolicyBlock cfg = builtinConfig.get(Builtins.RESIDENCY);
        String id = builtinId(Builtins.RESIDENCY);
        boolean contributed = false;
        Decision deny = Decision.deny(DenyCode.POLICY_DENIED, "residency: token region does not match dataset "
            + d.name(), List.of(g.id(), id), version);
        if (cfg != null && cfg.condition() != null) {
          Cond c = blockConditions.get(cfg.id());
          if (c != null) {
            denyChecks.add(new GrantPlan.DenyCheck(c, deny));
          }
        } else {
          List<Object> regions = new ArrayList<>();
          d.tags().stream().filter(t -> t.startsWith("region:")).sorted()
              .forEach(t -> regions.add(t.substring("region:".length())));
          if (!regions.isEmpty()) {
            Cond inRegion = new Cond.In(
                new Operand.Attr(Operand.Attr.T_ATTRS, new String[] {"region"}, "token.attrs.region"),
                new Operand.Literal(List.copyOf(regions)));
            denyChecks.add(new GrantPlan.DenyCheck(new Cond.Not(inRegion), deny));
          }
        }
        if (cfg != null && cfg.rowFilter() != null) {
          RowExpr r = blockRowFilter(cfg, "policies[" + blockIndex.get(cfg.id()) + "]", d);
          if (r != null) {
            filters.add(r);
            contributed = true;
          }
        } else {
          for (Column c : d.columns()) {
            if (c.tags().contains("region")) {
              filters.add(new RowExpr.Compare(Cond.Op.EQ, c,
                  new Operand.Attr(Operand.Attr.T_ATTRS, new String[] {"region"}, "token.attrs.region")));
              contributed = true;
            }
          }
        }
        if (contributed) {
          ids.add(id);
        }
      }

      // custom blocks
      for (int i = 0; i < config.policies().size(); i++) {
        PolicyBlock b = config.policies().get(i);
        if (b.builtin() != null || !b.enabled() || !matches(b.appliesTo(), app, d)) {
          continue;
        }
        Cond cond = b.condition() == null ? null : blockConditions.get(b.id());
        if (b.condition() != null && cond == null) {
          continue;  // its issue is already recorded
        }
        if (b.effect() == Effect.DENY) {
          denyChecks.add(new GrantPlan.DenyCheck(Objects.requireNonNull(cond), Decision.deny(
              DenyCode.POLICY_DENIED, "denied by policy block " + b.id()
                  + (b.description() != null ? ": " + b.description() : ""), List.of(g.id(), b.id()), version)));
        } else if (b.effect() == Effect.MASK) {
          Map<String, String> blockSpecs = new LinkedHashMap<>();
          for (Map.Entry<String, String> m : b.masks().entrySet()) {
            if (!masks.containsKey(m.getValue()) && !m.getValue().equals("drop") && !m.getValue().equals("keep")) {
              continue;  // invalid spec: issue already recorded
            }
            for (Column c : columnsFor(m.getKey(), d)) {
              blockSpecs.put(c.name(), m.getValue());
            }
          }
          if (blockSpecs.isEmpty()) {
            continue;
          }
          if (cond == null) {
            boolean changed = false;
            for (Map.Entry<String, String> e : blockSpecs.entrySet()) {
              changed |= !hidden.contains(e.getKey()) && GrantPlan.compose(specs, e.getKey(), e.getValue());
            }
            if (changed) {
              ids.add(b.id());
            }
          } else {
            conditionalMasks.add(new GrantPlan.ConditionalMask(b.id(), cond, Map.copyOf(blockSpecs)));
          }
        } else {
          RowExpr r = blockRowFilter(b, "policies[" + i + "]", d);
          if (r == null) {
            continue;
          }
          if (cond == null) {
            filters.add(r);
          } else {
            // NOT gate OR filter: the gate is a token-only boolean parameter; an error applies the filter
            filters.add(new RowExpr.Or(List.of(
                new RowExpr.Not(new RowExpr.TokenTerm(cond, true, b.id() + ".condition")), r)));
          }
          ids.add(b.id());
        }
      }

      // pii-needs-consent: redact pii (or deny) unless the app consents to the dataset
      if (active(Builtins.PII_NEEDS_CONSENT, app, d) && !app.consents().contains(d.name())) {
        List<Column> pii = d.columns().stream()
            .filter(c -> c.tags().contains("pii") && !hidden.contains(c.name())
                && !"drop".equals(specs.get(c.name())))
            .toList();
        if (!pii.isEmpty()) {
          String id = builtinId(Builtins.PII_NEEDS_CONSENT);
          if (config.settings().piiMode().equals("deny")) {
            if (staticDeny == null) {
              staticDeny = Decision.deny(DenyCode.CONSENT_MISSING, "app " + app.id() + " has no consent for pii of "
                  + d.name(), List.of(g.id(), id), version);
            }
          } else {
            masks.computeIfAbsent("redact", k -> Masks.REDACT_MASK);
            pii.forEach(c -> GrantPlan.compose(specs, c.name(), "redact"));
            ids.add(id);
          }
        }
      }

      RowFilterPlan rowFilter = filters.isEmpty() ? RowFilterPlan.NONE : new RowFilterPlan(RowExpr.and(filters));
      return new GrantPlan(g.id(), condition, staticDeny, denyChecks, conditionalMasks, rowFilter, specs, hidden,
          d.columns(), Map.copyOf(masks), ids, d.costWeight(), version);
    }

    boolean active(String builtin, App app, Dataset d) {
      if (config.settings().disabledBuiltins().contains(builtin)) {
        return false;
      }
      PolicyBlock cfg = builtinConfig.get(builtin);
      return cfg == null || (cfg.enabled() && matches(cfg.appliesTo(), app, d));
    }

    String builtinId(String builtin) {
      PolicyBlock cfg = builtinConfig.get(builtin);
      return cfg == null ? builtin : cfg.id();
    }

    static boolean matches(Selector s, App app, Dataset d) {
      return (s.tags().isEmpty() || intersects(s.tags(), d.tags()))
          && (s.tiers().isEmpty() || s.tiers().contains(app.tier()))
          && (s.datasets().isEmpty() || s.datasets().contains(d.name()))
          && (s.apps().isEmpty() || s.apps().contains(app.id()));
    }

    static boolean intersects(Set<String> a, Set<String> b) {
      for (String x : a) {
        if (b.contains(x)) {
          return true;
        }
      }
      return false;
    }

    /** A mask key: a column name, or {@code tag:<tag>} for every column with that tag. */
    static List<Column> columnsFor(String key, Dataset d) {
      if (key.startsWith("tag:")) {
        String tag = key.substring("tag:".length());
        return d.columns().stream().filter(c -> c.tags().contains(tag)).toList();
      }
      Column c = d.column(key);
      return c == null ? List.of() : List.of(c);
    }

    static String unknownColumn(String c, Dataset d) {
      return "unknown column '" + c + "' of dataset " + d.name();
    }
  }
}

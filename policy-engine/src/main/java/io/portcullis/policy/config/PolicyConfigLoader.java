package io.portcullis.policy.config;

import io.portcullis.policy.config.YamlTree.ListNode;
import io.portcullis.policy.config.YamlTree.MapNode;
import io.portcullis.policy.config.YamlTree.Node;
import io.portcullis.policy.config.YamlTree.Scalar;
import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.AppStatus;
import io.portcullis.policy.model.Approval;
import io.portcullis.policy.model.Budget;
import io.portcullis.policy.model.BudgetPeriod;
import io.portcullis.policy.model.ClientCredentials;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.ColumnRule;
import io.portcullis.policy.model.ColumnType;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.Effect;
import io.portcullis.policy.model.Grant;
import io.portcullis.policy.model.HttpRoute;
import io.portcullis.policy.model.HttpSource;
import io.portcullis.policy.model.PolicyBlock;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.PostgresSource;
import io.portcullis.policy.model.Quota;
import io.portcullis.policy.model.Selector;
import io.portcullis.policy.model.Settings;
import io.portcullis.policy.model.Source;
import io.portcullis.policy.model.Template;
import io.portcullis.policy.model.TemplateColumns;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonToken;

/**
 * Reads the one YAML policy format (CONFIG.md) into the model records. Every problem is collected as a
 * {@link ConfigIssue} with its line, column and model path; the loader keeps going after an error so one run reports
 * them all.
 */
public final class PolicyConfigLoader {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  /** Unreserved characters (and brackets, for APIs spelling filters as filter[owner]): sent without encoding. */
  private static final Pattern QUERY_PARAM_NAME = Pattern.compile("[A-Za-z0-9._~\\[\\]-]+");

  private PolicyConfigLoader() {}

  public static PolicyConfig parse(String yaml, String sourceName) throws PolicyConfigException {
    return parseLocated(yaml, sourceName).config();
  }

  public static PolicyConfig load(Path path) throws PolicyConfigException {
    return loadLocated(path).config();
  }

  /** Like {@link #load(Path)}, keeping the source positions for {@code PolicyCompiler}'s issues. */
  public static LocatedConfig loadLocated(Path path) throws PolicyConfigException {
    Objects.requireNonNull(path, "path");
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new PolicyConfigException(
          List.of(new ConfigIssue(path.toString(), 0, 0, "", "cannot read: " + e.getMessage())));
    }
    return parseLocated(text, path.toString());
  }

  /** Like {@link #parse(String, String)}, keeping the source positions for {@code PolicyCompiler}'s issues. */
  public static LocatedConfig parseLocated(String yaml, String sourceName) throws PolicyConfigException {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(sourceName, "sourceName");
    Reader r = new Reader(yaml, sourceName);
    PolicyConfig config = r.read();
    if (!r.issues.isEmpty()) {
      throw new PolicyConfigException(r.issues);
    }
    return new LocatedConfig(config, r.sourceMap());
  }

  /** One pass over one document; collects issues instead of stopping at the first. */
  private static final class Reader {
    final String source;
    final List<String> lines;
    final List<ConfigIssue> issues = new ArrayList<>();
    final Map<String, int[]> positions = new HashMap<>();
    final Map<String, Boolean> blockScalars = new HashMap<>();

    Reader(String yaml, String source) {
      this.source = source;
      this.lines = Arrays.asList(yaml.split("\r?\n", -1));
    }

    SourceMap sourceMap() {
      return new SourceMap(source, lines, positions, blockScalars);
    }

    PolicyConfig read() {
      List<YamlTree.Problem> problems = new ArrayList<>();
      Node root = YamlTree.parse(String.join("\n", lines), problems);
      for (YamlTree.Problem p : problems) {
        issue(p.line(), p.column(), "", p.message());
      }
      if (root == null) {
        if (problems.isEmpty()) {
          issue(1, 1, "", "empty document (expected: a mapping with apps, datasets, grants, …)");
        }
        return new PolicyConfig(Settings.DEFAULT, List.of(), List.of(), List.of(), List.of(), List.of());
      }
      MapNode m = map(root, "");
      if (m == null) {
        return new PolicyConfig(Settings.DEFAULT, List.of(), List.of(), List.of(), List.of(), List.of());
      }
      keys(m, "", "settings", "apps", "datasets", "grants", "policies", "routes");
      Settings settings = settings(m.entries().get("settings"), "settings");
      List<App> apps = list(m, "apps", this::app);
      List<Dataset> datasets = list(m, "datasets", this::dataset);
      List<Grant> grants = list(m, "grants", this::grant);
      List<PolicyBlock> policies = list(m, "policies", this::policy);
      List<HttpRoute> routes = list(m, "routes", this::route);
      unique(apps, App::id, "apps", "id");
      unique(datasets, Dataset::name, "datasets", "name");
      unique(grants, Grant::id, "grants", "id");
      unique(policies, PolicyBlock::id, "policies", "id");
      unique(routes, HttpRoute::id, "routes", "id");
      return new PolicyConfig(settings, apps, datasets, grants, policies, routes);
    }

    // ---- sections -------------------------------------------------------------------------------------------

    Settings settings(@Nullable Node n, String path) {
      if (n == null || isNull(n)) {
        return Settings.DEFAULT;
      }
      MapNode m = map(n, path);
      if (m == null) {
        return Settings.DEFAULT;
      }
      keys(m, path, "disabled_builtins", "pii_mode");
      Set<String> disabled = strSet(m, "disabled_builtins", path);
      String piiMode = oneOf(m, "pii_mode", path, "mask", List.of("mask", "deny"));
      return new Settings(disabled, piiMode);
    }

    App app(MapNode m, String path) {
      keys(m, path, "id", "name", "owner", "team", "cost_center", "tier", "status", "review_due", "client",
          "consents", "quota", "attrs");
      String id = required(m, "id", path);
      String name = str(m, "name", path, id);
      String owner = str(m, "owner", path, "");
      String team = str(m, "team", path, "");
      String costCenter = str(m, "cost_center", path, "");
      int tier = integer(m, "tier", path, 1, 0, 2);
      AppStatus status = enumValue(m, "status", path, AppStatus.class, AppStatus.ACTIVE);
      LocalDate reviewDue = date(m, "review_due", path);
      ClientCredentials client = ClientCredentials.NONE;
      Node cn = m.entries().get("client");
      if (cn != null && !isNull(cn)) {
        MapNode c = map(cn, path + ".client");
        if (c != null) {
          keys(c, path + ".client", "secret_hash", "jwks", "jwks_uri");
          client = new ClientCredentials(
              str(c, "secret_hash", path + ".client", null),
              str(c, "jwks", path + ".client", null),
              str(c, "jwks_uri", path + ".client", null));
        }
      }
      Set<String> consents = strSet(m, "consents", path);
      Quota quota = null;
      Node qn = m.entries().get("quota");
      if (qn != null && !isNull(qn)) {
        quota = quota(qn, path + ".quota");
      }
      Map<String, Object> attrs = attrs(m, "attrs", path);
      return new App(id, name, owner, team, costCenter, tier, status, reviewDue, client, consents, quota, attrs);
    }

    @Nullable Quota quota(Node n, String path) {
      MapNode m = map(n, path);
      if (m == null) {
        return null;
      }
      keys(m, path, "rate_per_second", "burst", "concurrency", "budget");
      double rate = number(m, "rate_per_second", path, 10.0);
      if (rate <= 0) {
        issueAt(path + ".rate_per_second", "rate_per_second: " + rate + " (expected: > 0)");
      }
      int burst = integer(m, "burst", path, (int) Math.max(1, Math.ceil(rate)), 1, Integer.MAX_VALUE);
      int concurrency = integer(m, "concurrency", path, 10, 1, Integer.MAX_VALUE);
      Budget budget = null;
      Node bn = m.entries().get("budget");
      if (bn != null && !isNull(bn)) {
        String bp = path + ".budget";
        MapNode b = map(bn, bp);
        if (b != null) {
          keys(b, bp, "period", "units", "soft_percent", "zone");
          BudgetPeriod period = enumValue(b, "period", bp, BudgetPeriod.class, BudgetPeriod.DAY);
          long units = longValue(b, "units", bp, 0);
          if (units <= 0) {
            issueAt(bp + ".units", "units: " + units + " (expected: > 0)");
          }
          int soft = integer(b, "soft_percent", bp, 80, 1, 100);
          String zone = str(b, "zone", bp, "UTC");
          try {
            ZoneId.of(zone);
          } catch (DateTimeException e) {
            issueAt(bp + ".zone", "unknown time zone '" + zone + "'");
          }
          budget = new Budget(period, units, soft, zone);
        }
      }
      return new Quota(rate, burst, concurrency, budget);
    }

    Dataset dataset(MapNode m, String path) {
      keys(m, path, "name", "template", "tags", "source", "columns", "max_limit", "default_limit", "cost_weight",
          "roles", "contract", "statement_timeout", "max_cost");
      String name = required(m, "name", path);
      Template template = enumValue(m, "template", path, Template.class, Template.CUSTOM);
      Set<String> tags = strSet(m, "tags", path);
      Source source = source(m.entries().get("source"), path + ".source");
      List<Column> columns = list(m, "columns", path, this::column);
      if (m.entries().get("columns") == null) {
        issueAt(path, "missing key 'columns'");
      }
      unique(columns, Column::name, path + ".columns", "name");
      int maxLimit = integer(m, "max_limit", path, 1000, 1, Integer.MAX_VALUE);
      int defaultLimit = integer(m, "default_limit", path, Math.min(100, maxLimit), 1, Integer.MAX_VALUE);
      if (defaultLimit > maxLimit) {
        issueAt(path + ".default_limit", "default_limit: " + defaultLimit + " (expected: <= max_limit " + maxLimit + ")");
      }
      double costWeight = number(m, "cost_weight", path, 1.0);
      if (costWeight < 0) {
        issueAt(path + ".cost_weight", "cost_weight: " + costWeight + " (expected: >= 0)");
      }
      TemplateColumns roles = roles(m.entries().get("roles"), path + ".roles", template, columns);
      String contract = str(m, "contract", path, null);
      Duration statementTimeout = positiveDuration(m, "statement_timeout", path);
      double maxCost = number(m, "max_cost", path, 0.0);
      if (maxCost < 0) {
        issueAt(path + ".max_cost", "max_cost: " + maxCost + " (expected: >= 0; 0 = no limit)");
      }
      return new Dataset(name, template, tags, source, columns, maxLimit, defaultLimit, costWeight, roles, contract,
          statementTimeout, maxCost);
    }

    Source source(@Nullable Node n, String path) {
      PostgresSource placeholder = new PostgresSource("public", "", "id");
      if (n == null) {
        issueAt(path.substring(0, path.lastIndexOf('.')), "missing key 'source'");
        return placeholder;
      }
      MapNode m = map(n, path);
      if (m == null) {
        return placeholder;
      }
      String type = oneOf(m, "type", path, "postgres", List.of("postgres", "http"));
      if (type.equals("http")) {
        keys(m, path, "type", "route", "rows_pointer");
        return new HttpSource(required(m, "route", path), str(m, "rows_pointer", path, ""));
      }
      keys(m, path, "type", "schema", "table", "key", "connection");
      return new PostgresSource(str(m, "schema", path, "public"), required(m, "table", path), str(m, "key", path, "id"),
          str(m, "connection", path, null));
    }

    Column column(MapNode m, String path) {
      keys(m, path, "name", "type", "tags", "nullable");
      return new Column(
          required(m, "name", path),
          enumValue(m, "type", path, ColumnType.class, ColumnType.TEXT),
          strSet(m, "tags", path),
          bool(m, "nullable", path, true));
    }

    TemplateColumns roles(@Nullable Node n, String path, Template template, List<Column> columns) {
      Set<String> declared = new LinkedHashSet<>();
      columns.forEach(c -> declared.add(c.name()));
      // the catalogue's conventional names, used when the dataset declares the column and says nothing else
      String owner = template == Template.DIRECTORY ? "owner_id" : null;
      String softDelete = template == Template.DIRECTORY && declared.contains("deleted_at") ? "deleted_at" : null;
      String state = template == Template.APPROVAL_QUEUE ? "status" : null;
      String reviewer = template == Template.APPROVAL_QUEUE && declared.contains("reviewer_id") ? "reviewer_id" : null;
      String createdAt = declared.contains("created_at") ? "created_at" : null;
      String auditTable = null;
      if (n != null && !isNull(n)) {
        MapNode m = map(n, path);
        if (m != null) {
          keys(m, path, "owner", "soft_delete", "state", "reviewer", "audit_table", "created_at");
          owner = str(m, "owner", path, owner);
          softDelete = str(m, "soft_delete", path, softDelete);
          state = str(m, "state", path, state);
          reviewer = str(m, "reviewer", path, reviewer);
          auditTable = str(m, "audit_table", path, null);
          createdAt = str(m, "created_at", path, createdAt);
        }
      }
      return new TemplateColumns(owner, softDelete, state, reviewer, auditTable, createdAt);
    }

    Grant grant(MapNode m, String path) {
      keys(m, path, "id", "app", "dataset", "actions", "row_filter", "columns", "condition", "approval");
      String app = required(m, "app", path);
      String dataset = required(m, "dataset", path);
      String id = str(m, "id", path, app + ":" + dataset);
      Set<Action> actions = EnumSet.noneOf(Action.class);
      Node an = m.entries().get("actions");
      if (an == null) {
        actions.add(Action.READ);
      } else {
        ListNode l = listNode(an, path + ".actions");
        if (l != null) {
          for (int i = 0; i < l.items().size(); i++) {
            Action a = enumOf(l.items().get(i), path + ".actions[" + i + "]", Action.class);
            if (a != null) {
              actions.add(a);
            }
          }
        }
        if (actions.isEmpty()) {
          issueAt(path + ".actions", "no actions (expected: at least one of read, create, update, delete)");
        }
      }
      String rowFilter = expression(m, "row_filter", path);
      ColumnRule columns = ColumnRule.ALL;
      Node cn = m.entries().get("columns");
      if (cn != null && !isNull(cn)) {
        String cp = path + ".columns";
        MapNode c = map(cn, cp);
        if (c != null) {
          keys(c, cp, "allow", "deny", "masks");
          List<String> allow = c.entries().containsKey("allow") ? strList(c, "allow", cp) : null;
          columns = new ColumnRule(allow, strList(c, "deny", cp), strMap(c, "masks", cp));
        }
      }
      String condition = expression(m, "condition", path);
      Approval approval = null;
      Node apn = m.entries().get("approval");
      if (apn != null && !isNull(apn)) {
        String ap = path + ".approval";
        MapNode a = map(apn, ap);
        if (a != null) {
          keys(a, ap, "by", "at", "reason");
          approval = new Approval(required(a, "by", ap), instant(a, "at", ap), str(a, "reason", ap, ""));
        }
      }
      return new Grant(id, app, dataset, actions, rowFilter, columns, condition, approval);
    }

    PolicyBlock policy(MapNode m, String path) {
      keys(m, path, "id", "builtin", "applies_to", "effect", "condition", "row_filter", "masks", "description",
          "enabled");
      String id = required(m, "id", path);
      String builtin = str(m, "builtin", path, null);
      Selector selector = Selector.ANY;
      Node sn = m.entries().get("applies_to");
      if (sn != null && !isNull(sn)) {
        String sp = path + ".applies_to";
        MapNode s = map(sn, sp);
        if (s != null) {
          keys(s, sp, "tags", "tiers", "datasets", "apps");
          Set<Integer> tiers = new LinkedHashSet<>();
          Node tn = s.entries().get("tiers");
          if (tn != null && !isNull(tn)) {
            ListNode tl = listNode(tn, sp + ".tiers");
            if (tl != null) {
              for (int i = 0; i < tl.items().size(); i++) {
                Integer t = intOf(tl.items().get(i), sp + ".tiers[" + i + "]", 0, 2);
                if (t != null) {
                  tiers.add(t);
                }
              }
            }
          }
          selector = new Selector(strSet(s, "tags", sp), tiers, strSet(s, "datasets", sp), strSet(s, "apps", sp));
        }
      }
      String condition = expression(m, "condition", path);
      String rowFilter = expression(m, "row_filter", path);
      Map<String, String> masks = strMap(m, "masks", path);
      Effect inferred = !masks.isEmpty() ? Effect.MASK : rowFilter != null ? Effect.ROW_FILTER : Effect.DENY;
      Effect effect = enumValue(m, "effect", path, Effect.class, inferred);
      if (builtin == null) {
        if (effect == Effect.MASK && masks.isEmpty()) {
          issueAt(path + ".masks", "effect mask needs masks");
        }
        if (effect == Effect.ROW_FILTER && rowFilter == null) {
          issueAt(path + ".row_filter", "effect row_filter needs row_filter");
        }
        if (effect == Effect.DENY && condition == null) {
          issueAt(path + ".condition", "effect deny needs a condition (use enabled: false to switch a block off)");
        }
      }
      return new PolicyBlock(id, builtin, selector, effect, condition, rowFilter, masks,
          str(m, "description", path, null), bool(m, "enabled", path, true));
    }

    HttpRoute route(MapNode m, String path) {
      keys(m, path, "id", "path_prefix", "uri", "timeout", "filter_params");
      String id = required(m, "id", path);
      String prefix = required(m, "path_prefix", path);
      if (!prefix.isEmpty() && !prefix.startsWith("/")) {
        issueAt(path + ".path_prefix", "path_prefix '" + prefix + "' (expected: starting with /)");
      }
      String uri = required(m, "uri", path);
      Duration timeout = Duration.ofSeconds(10);
      String t = str(m, "timeout", path, null);
      if (t != null) {
        Duration d = duration(t);
        if (d == null || d.isZero() || d.isNegative()) {
          issueAt(path + ".timeout", "timeout '" + t + "' (expected: a positive duration like 500ms, 5s, 2m or PT5S)");
        } else {
          timeout = d;
        }
      }
      Map<String, String> filterParams = strMap(m, "filter_params", path);
      Set<String> paramNames = new HashSet<>();
      for (Map.Entry<String, String> e : filterParams.entrySet()) {
        String p = path + ".filter_params." + e.getKey();
        if (!QUERY_PARAM_NAME.matcher(e.getValue()).matches()) {
          issueAt(p, "query parameter name '" + e.getValue() + "' (expected: letters, digits and . _ ~ - [ ])");
        } else if (!paramNames.add(e.getValue().toLowerCase(Locale.ROOT))) {
          issueAt(p, "query parameter '" + e.getValue() + "' is already used by another column");
        }
      }
      return new HttpRoute(id, prefix, uri, timeout, filterParams);
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    @Nullable Duration positiveDuration(MapNode m, String key, String path) {
      String t = str(m, key, path, null);
      if (t == null) {
        return null;
      }
      Duration d = duration(t);
      if (d == null || d.isZero() || d.isNegative()) {
        issueAt(path + "." + key, key + " '" + t + "' (expected: a positive duration like 500ms, 5s, 2m or PT5S)");
        return null;
      }
      return d;
    }

    interface ItemReader<T> {
      T read(MapNode m, String path);
    }

    <T> List<T> list(MapNode parent, String key, ItemReader<T> reader) {
      return list(parent, key, "", reader);
    }

    <T> List<T> list(MapNode parent, String key, String parentPath, ItemReader<T> reader) {
      String path = join(parentPath, key);
      Node n = parent.entries().get(key);
      if (n == null || isNull(n)) {
        return List.of();
      }
      ListNode l = listNode(n, path);
      if (l == null) {
        return List.of();
      }
      List<T> out = new ArrayList<>();
      for (int i = 0; i < l.items().size(); i++) {
        String ip = path + "[" + i + "]";
        MapNode item = map(l.items().get(i), ip);
        if (item != null) {
          out.add(reader.read(item, ip));
        }
      }
      return out;
    }

    <T> void unique(List<T> items, Function<T, String> id, String path, String key) {
      Set<String> seen = new LinkedHashSet<>();
      for (int i = 0; i < items.size(); i++) {
        String v = id.apply(items.get(i));
        if (!v.isEmpty() && !seen.add(v)) {
          issueAt(path + "[" + i + "]." + key, "duplicate " + key + " '" + v + "'");
        }
      }
    }

    @Nullable MapNode map(Node n, String path) {
      record(path, n);
      if (n instanceof MapNode m) {
        return m;
      }
      issue(n.line(), n.column(), path, "expected a mapping, found " + describe(n));
      return null;
    }

    @Nullable ListNode listNode(Node n, String path) {
      record(path, n);
      if (n instanceof ListNode l) {
        return l;
      }
      issue(n.line(), n.column(), path, "expected a list, found " + describe(n));
      return null;
    }

    void keys(MapNode m, String path, String... allowed) {
      List<String> ok = List.of(allowed);
      for (YamlTree.Key k : m.keys().values()) {
        if (!ok.contains(k.name())) {
          String hint = closest(k.name(), ok);
          issue(k.line(), k.column(), join(path, k.name()),
              "unknown key '" + k.name() + "'" + (hint != null ? " (did you mean '" + hint + "'?)"
                  : " (expected one of: " + String.join(", ", ok) + ")"));
        }
      }
    }

    String required(MapNode m, String key, String path) {
      String v = str(m, key, path, null);
      if (v == null || v.isBlank()) {
        if (!m.entries().containsKey(key)) {
          issue(m.line(), m.column(), join(path, key), "missing key '" + key + "'");
        } else {
          issueAt(join(path, key), "'" + key + "' must not be empty");
        }
        return "";
      }
      return v;
    }

    @Nullable String str(MapNode m, String key, String path, @Nullable String def) {
      Node n = m.entries().get(key);
      String p = join(path, key);
      if (n == null) {
        return def;
      }
      record(p, n);
      if (n instanceof Scalar s) {
        return s.text() == null ? def : s.text();
      }
      issue(n.line(), n.column(), p, "expected a scalar, found " + describe(n));
      return def;
    }

    /** A CEL string; its recorded position is that of the expression's first character (after a quote). */
    @Nullable String expression(MapNode m, String key, String path) {
      String v = str(m, key, path, null);
      Node n = m.entries().get(key);
      if (v != null && n instanceof Scalar s) {
        String p = join(path, key);
        String text = s.line() >= 1 && s.line() <= lines.size() ? lines.get(s.line() - 1) : "";
        int idx = s.column() - 1;
        char c = idx >= 0 && idx < text.length() ? text.charAt(idx) : ' ';
        if (c == '|' || c == '>') {
          blockScalars.put(p, true);
        } else if (c == '"' || c == '\'') {
          positions.put(p, new int[] {s.line(), s.column() + 1});
        }
        if (v.isBlank()) {
          issueAt(p, "empty expression");
          return null;
        }
      }
      return v;
    }

    String oneOf(MapNode m, String key, String path, String def, List<String> allowed) {
      String v = str(m, key, path, def);
      if (v == null || !allowed.contains(v)) {
        issueAt(join(path, key), "'" + v + "' (expected one of: " + String.join(", ", allowed) + ")");
        return def;
      }
      return v;
    }

    <E extends Enum<E>> E enumValue(MapNode m, String key, String path, Class<E> type, E def) {
      Node n = m.entries().get(key);
      if (n == null || isNull(n)) {
        return def;
      }
      E e = enumOf(n, join(path, key), type);
      return e == null ? def : e;
    }

    <E extends Enum<E>> @Nullable E enumOf(Node n, String path, Class<E> type) {
      record(path, n);
      List<String> names = new ArrayList<>();
      for (E c : type.getEnumConstants()) {
        names.add(c.name().toLowerCase(Locale.ROOT).replace('_', type == io.portcullis.policy.model.Effect.class ? '_' : '-'));
      }
      if (n instanceof Scalar s && s.text() != null) {
        String want = s.text().trim().toLowerCase(Locale.ROOT);
        for (int i = 0; i < names.size(); i++) {
          if (names.get(i).equals(want)) {
            return type.getEnumConstants()[i];
          }
        }
        issue(n.line(), n.column(), path, "'" + s.text() + "' (expected one of: " + String.join(", ", names) + ")");
        return null;
      }
      issue(n.line(), n.column(), path, "expected one of: " + String.join(", ", names) + ", found " + describe(n));
      return null;
    }

    int integer(MapNode m, String key, String path, int def, int min, int max) {
      Node n = m.entries().get(key);
      if (n == null || isNull(n)) {
        return def;
      }
      Integer v = intOf(n, join(path, key), min, max);
      return v == null ? def : v;
    }

    @Nullable Integer intOf(Node n, String path, int min, int max) {
      record(path, n);
      if (n instanceof Scalar s && s.kind() == JsonToken.VALUE_NUMBER_INT) {
        try {
          long v = Long.parseLong(s.text());
          if (v < min || v > max) {
            issue(n.line(), n.column(), path, "%s (expected: %s)".formatted(v, range(min, max)));
            return null;
          }
          return (int) v;
        } catch (NumberFormatException e) {
          // falls through to the type error below
        }
      }
      issue(n.line(), n.column(), path, "expected an integer, found " + describe(n));
      return null;
    }

    long longValue(MapNode m, String key, String path, long def) {
      Node n = m.entries().get(key);
      if (n == null || isNull(n)) {
        return def;
      }
      record(join(path, key), n);
      if (n instanceof Scalar s && s.kind() == JsonToken.VALUE_NUMBER_INT) {
        try {
          return Long.parseLong(s.text());
        } catch (NumberFormatException e) {
          // falls through
        }
      }
      issue(n.line(), n.column(), join(path, key), "expected an integer, found " + describe(n));
      return def;
    }

    double number(MapNode m, String key, String path, double def) {
      Node n = m.entries().get(key);
      if (n == null || isNull(n)) {
        return def;
      }
      record(join(path, key), n);
      if (n instanceof Scalar s
          && (s.kind() == JsonToken.VALUE_NUMBER_INT || s.kind() == JsonToken.VALUE_NUMBER_FLOAT)) {
        try {
          return Double.parseDouble(s.text());
        } catch (NumberFormatException e) {
          // falls through
        }
      }
      issue(n.line(), n.column(), join(path, key), "expected a number, found " + describe(n));
      return def;
    }

    boolean bool(MapNode m, String key, String path, boolean def) {
      Node n = m.entries().get(key);
      if (n == null || isNull(n)) {
        return def;
      }
      record(join(path, key), n);
      if (n instanceof Scalar s && (s.kind() == JsonToken.VALUE_TRUE || s.kind() == JsonToken.VALUE_FALSE)) {
        return s.kind() == JsonToken.VALUE_TRUE;
      }
      issue(n.line(), n.column(), join(path, key), "expected true or false, found " + describe(n));
      return def;
    }

    @Nullable LocalDate date(MapNode m, String key, String path) {
      String v = str(m, key, path, null);
      if (v == null) {
        return null;
      }
      try {
        return LocalDate.parse(v);
      } catch (DateTimeException e) {
        issueAt(join(path, key), "'" + v + "' (expected: a date like 2027-01-31)");
        return null;
      }
    }

    Instant instant(MapNode m, String key, String path) {
      String v = str(m, key, path, null);
      if (v == null) {
        issue(m.line(), m.column(), join(path, key), "missing key '" + key + "'");
        return Instant.EPOCH;
      }
      try {
        return Instant.parse(v);
      } catch (DateTimeException e) {
        try {
          return LocalDate.parse(v).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        } catch (DateTimeException e2) {
          issueAt(join(path, key), "'" + v + "' (expected: an instant like 2026-03-01T09:00:00Z)");
          return Instant.EPOCH;
        }
      }
    }

    List<String> strList(MapNode m, String key, String path) {
      Node n = m.entries().get(key);
      String p = join(path, key);
      if (n == null || isNull(n)) {
        return List.of();
      }
      ListNode l = listNode(n, p);
      if (l == null) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < l.items().size(); i++) {
        Node item = l.items().get(i);
        record(p + "[" + i + "]", item);
        if (item instanceof Scalar s && s.text() != null) {
          out.add(s.text());
        } else {
          issue(item.line(), item.column(), p + "[" + i + "]", "expected a string, found " + describe(item));
        }
      }
      return out;
    }

    Set<String> strSet(MapNode m, String key, String path) {
      return new LinkedHashSet<>(strList(m, key, path));
    }

    /** ABAC attributes: scalars (string, number, boolean) or lists of strings, as tokens carry them. */
    Map<String, Object> attrs(MapNode m, String key, String path) {
      Node n = m.entries().get(key);
      String p = join(path, key);
      if (n == null || isNull(n)) {
        return Map.of();
      }
      MapNode mm = map(n, p);
      if (mm == null) {
        return Map.of();
      }
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, Node> e : mm.entries().entrySet()) {
        String ep = p + "." + e.getKey();
        record(ep, e.getValue());
        Node v = e.getValue();
        if (v instanceof Scalar s && s.text() != null) {
          out.put(e.getKey(), switch (s.kind()) {
            case VALUE_NUMBER_INT -> Long.valueOf(s.text());
            case VALUE_NUMBER_FLOAT -> Double.valueOf(s.text());
            case VALUE_TRUE, VALUE_FALSE -> Boolean.valueOf(s.text());
            default -> s.text();
          });
        } else if (v instanceof ListNode) {
          out.put(e.getKey(), strList(mm, e.getKey(), p));
        } else {
          issue(v.line(), v.column(), ep, "expected a string, number, boolean or list of strings, found " + describe(v));
        }
      }
      return out;
    }

    Map<String, String> strMap(MapNode m, String key, String path) {
      Node n = m.entries().get(key);
      String p = join(path, key);
      if (n == null || isNull(n)) {
        return Map.of();
      }
      MapNode mm = map(n, p);
      if (mm == null) {
        return Map.of();
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (Map.Entry<String, Node> e : mm.entries().entrySet()) {
        String ep = p + "." + e.getKey();
        record(ep, e.getValue());
        if (e.getValue() instanceof Scalar s && s.text() != null) {
          out.put(e.getKey(), s.text());
        } else {
          issue(e.getValue().line(), e.getValue().column(), ep, "expected a string, found " + describe(e.getValue()));
        }
      }
      return out;
    }

    void record(String path, Node n) {
      positions.putIfAbsent(path, new int[] {n.line(), n.column()});
    }

    void issueAt(String path, String message) {
      issues.add(sourceMap().issue(path, message));
    }

    void issue(int line, int column, String path, String message) {
      String text = line >= 1 && line <= lines.size() ? lines.get(line - 1) : null;
      issues.add(new ConfigIssue(source, line, column, path, message, text));
    }

    static boolean isNull(Node n) {
      return n instanceof Scalar s && s.kind() == JsonToken.VALUE_NULL;
    }

    static String describe(Node n) {
      if (n instanceof MapNode) {
        return "a mapping";
      }
      if (n instanceof ListNode) {
        return "a list";
      }
      Scalar s = (Scalar) n;
      return s.text() == null ? "null" : "'" + s.text() + "'";
    }

    static String join(String path, String key) {
      return path.isEmpty() ? key : path + "." + key;
    }

    static String range(int min, int max) {
      return max == Integer.MAX_VALUE ? ">= " + min : min + ".." + max;
    }

    static @Nullable Duration duration(String text) {
      Matcher mt = DURATION.matcher(text.trim());
      if (mt.matches()) {
        long v = Long.parseLong(mt.group(1));
        return switch (mt.group(2)) {
          case "ms" -> Duration.ofMillis(v);
          case "s" -> Duration.ofSeconds(v);
          case "m" -> Duration.ofMinutes(v);
          default -> Duration.ofHours(v);
        };
      }
      try {
        return Duration.parse(text.trim());
      } catch (DateTimeException e) {
        return null;
      }
    }

    /** A known key within edit distance 2 of a misspelt one, for "did you mean". */
    static @Nullable String closest(String word, List<String> candidates) {
      String best = null;
      int bestD = 3;
      for (String c : candidates) {
        int d = distance(word, c);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      return best;
    }

    static int distance(String a, String b) {
      int[] prev = new int[b.length() + 1];
      int[] cur = new int[b.length() + 1];
      for (int j = 0; j <= b.length(); j++) {
        prev[j] = j;
      }
      for (int i = 1; i <= a.length(); i++) {
        cur[0] = i;
        for (int j = 1; j <= b.length(); j++) {
          int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
          cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
        }
        int[] t = prev;
        prev = cur;
        cur = t;
      }
      return prev[b.length()];
    }
  }
}

package io.portcullis.policy.config;

import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.Budget;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.Grant;
import io.portcullis.policy.model.HttpRoute;
import io.portcullis.policy.model.HttpSource;
import io.portcullis.policy.model.PolicyBlock;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.PostgresSource;
import io.portcullis.policy.model.Quota;
import io.portcullis.policy.model.Selector;
import io.portcullis.policy.model.TemplateColumns;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Writes a {@link PolicyConfig} in the YAML format {@link PolicyConfigLoader} reads; {@code parse(toYaml(c))} equals
 * {@code c}. Sets are written sorted so the output is stable (diffable in version control).
 */
public final class PolicyConfigWriter {
  private static final YAMLMapper MAPPER = YAMLMapper.builder()
      .enable(YAMLWriteFeature.MINIMIZE_QUOTES)
      .enable(YAMLWriteFeature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .enable(YAMLWriteFeature.LITERAL_BLOCK_STYLE)
      .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
      .disable(YAMLWriteFeature.SPLIT_LINES)
      .build();

  private PolicyConfigWriter() {}

  public static String toYaml(PolicyConfig config) {
    return MAPPER.writeValueAsString(toTree(config));
  }

  /**
   * The document as plain maps and lists, keyed as in the YAML ({@code apps}, {@code datasets}, … each a list of
   * entity maps). The admin API edits entities in this form and diffs them, so JSON and YAML share one schema.
   */
  public static Map<String, Object> toTree(PolicyConfig config) {
    Objects.requireNonNull(config, "config");
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, Object> settings = new LinkedHashMap<>();
    putSet(settings, "disabled_builtins", config.settings().disabledBuiltins());
    settings.put("pii_mode", config.settings().piiMode());
    root.put("settings", settings);
    root.put("apps", config.apps().stream().map(PolicyConfigWriter::app).toList());
    root.put("datasets", config.datasets().stream().map(PolicyConfigWriter::dataset).toList());
    root.put("grants", config.grants().stream().map(PolicyConfigWriter::grant).toList());
    root.put("policies", config.policies().stream().map(PolicyConfigWriter::policy).toList());
    root.put("routes", config.routes().stream().map(PolicyConfigWriter::route).toList());
    return root;
  }

  /** Writes a tree of maps, lists and scalars (e.g. an edited {@link #toTree}) in the same YAML style. */
  public static String toYaml(Map<String, ?> tree) {
    return MAPPER.writeValueAsString(Objects.requireNonNull(tree, "tree"));
  }

  private static Map<String, Object> app(App a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.id());
    m.put("name", a.name());
    m.put("owner", a.owner());
    m.put("team", a.team());
    m.put("cost_center", a.costCenter());
    m.put("tier", a.tier());
    m.put("status", a.status().yamlName());
    if (a.reviewDue() != null) {
      m.put("review_due", a.reviewDue().toString());
    }
    Map<String, Object> client = new LinkedHashMap<>();
    put(client, "secret_hash", a.client().secretHash());
    put(client, "jwks", a.client().jwks());
    put(client, "jwks_uri", a.client().jwksUri());
    if (!client.isEmpty()) {
      m.put("client", client);
    }
    putSet(m, "consents", a.consents());
    if (!a.attrs().isEmpty()) {
      m.put("attrs", new LinkedHashMap<>(a.attrs()));
    }
    Quota q = a.quota();
    if (q != null) {
      Map<String, Object> qm = new LinkedHashMap<>();
      qm.put("rate_per_second", q.ratePerSecond());
      qm.put("burst", q.burst());
      qm.put("concurrency", q.concurrency());
      Budget b = q.budget();
      if (b != null) {
        Map<String, Object> bm = new LinkedHashMap<>();
        bm.put("period", b.period().yamlName());
        bm.put("units", b.units());
        bm.put("soft_percent", b.softPercent());
        bm.put("zone", b.zone());
        qm.put("budget", bm);
      }
      m.put("quota", qm);
    }
    return m;
  }

  private static Map<String, Object> dataset(Dataset d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", d.name());
    m.put("template", d.template().yamlName());
    putSet(m, "tags", d.tags());
    Map<String, Object> s = new LinkedHashMap<>();
    if (d.source() instanceof PostgresSource p) {
      s.put("type", "postgres");
      s.put("schema", p.schema());
      s.put("table", p.table());
      s.put("key", p.key());
      put(s, "connection", p.connection());
    } else if (d.source() instanceof HttpSource h) {
      s.put("type", "http");
      s.put("route", h.route());
      s.put("rows_pointer", h.rowsPointer());
    }
    m.put("source", s);
    List<Object> cols = new ArrayList<>();
    for (Column c : d.columns()) {
      Map<String, Object> cm = new LinkedHashMap<>();
      cm.put("name", c.name());
      cm.put("type", c.type().yamlName());
      putSet(cm, "tags", c.tags());
      cm.put("nullable", c.nullable());
      cols.add(cm);
    }
    m.put("columns", cols);
    m.put("max_limit", d.maxLimit());
    m.put("default_limit", d.defaultLimit());
    m.put("cost_weight", d.costWeight());
    TemplateColumns r = d.roles();
    Map<String, Object> roles = new LinkedHashMap<>();
    put(roles, "owner", r.owner());
    put(roles, "soft_delete", r.softDelete());
    put(roles, "state", r.state());
    put(roles, "reviewer", r.reviewer());
    put(roles, "audit_table", r.auditTable());
    put(roles, "created_at", r.createdAt());
    if (!roles.isEmpty()) {
      m.put("roles", roles);
    }
    put(m, "contract", d.contract());
    if (d.statementTimeout() != null) {
      m.put("statement_timeout", duration(d.statementTimeout()));
    }
    if (d.maxCost() > 0) {
      m.put("max_cost", d.maxCost());
    }
    return m;
  }

  private static Map<String, Object> grant(Grant g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", g.id());
    m.put("app", g.app());
    m.put("dataset", g.dataset());
    List<String> actions = new ArrayList<>();
    for (Action a : Action.values()) {
      if (g.actions().contains(a)) {
        actions.add(a.scopeSuffix());
      }
    }
    m.put("actions", actions);
    put(m, "row_filter", g.rowFilter());
    Map<String, Object> c = new LinkedHashMap<>();
    if (g.columns().allow() != null) {
      c.put("allow", g.columns().allow());
    }
    if (!g.columns().deny().isEmpty()) {
      c.put("deny", g.columns().deny());
    }
    if (!g.columns().masks().isEmpty()) {
      c.put("masks", g.columns().masks());
    }
    if (!c.isEmpty()) {
      m.put("columns", c);
    }
    put(m, "condition", g.condition());
    if (g.approval() != null) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("by", g.approval().by());
      a.put("at", g.approval().at().toString());
      a.put("reason", g.approval().reason());
      m.put("approval", a);
    }
    return m;
  }

  private static Map<String, Object> policy(PolicyBlock p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", p.id());
    put(m, "builtin", p.builtin());
    Selector s = p.appliesTo();
    if (!s.isAny()) {
      Map<String, Object> sm = new LinkedHashMap<>();
      putSet(sm, "tags", s.tags());
      if (!s.tiers().isEmpty()) {
        sm.put("tiers", s.tiers().stream().sorted().toList());
      }
      putSet(sm, "datasets", s.datasets());
      putSet(sm, "apps", s.apps());
      m.put("applies_to", sm);
    }
    m.put("effect", p.effect().yamlName());
    put(m, "condition", p.condition());
    put(m, "row_filter", p.rowFilter());
    if (!p.masks().isEmpty()) {
      m.put("masks", p.masks());
    }
    put(m, "description", p.description());
    m.put("enabled", p.enabled());
    return m;
  }

  private static Map<String, Object> route(HttpRoute r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("path_prefix", r.pathPrefix());
    m.put("uri", r.uri());
    m.put("timeout", duration(r.timeout()));
    if (!r.filterParams().isEmpty()) {
      m.put("filter_params", new LinkedHashMap<>(r.filterParams()));
    }
    return m;
  }

  private static String duration(Duration d) {
    if (d.toNanos() % 1_000_000 != 0) {
      return d.toString();
    }
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
  }

  private static void put(Map<String, Object> m, String key, @Nullable Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  private static void putSet(Map<String, Object> m, String key, Collection<String> values) {
    if (!values.isEmpty()) {
      m.put(key, values.stream().sorted().toList());
    }
  }
}

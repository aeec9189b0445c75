package io.portcullis.policy.cli;

import io.portcullis.policy.BoundRowFilter;
import io.portcullis.policy.CompileOptions;
import io.portcullis.policy.Decision;
import io.portcullis.policy.DecisionRequest;
import io.portcullis.policy.PolicyCompiler;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.LocatedConfig;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * {@code validate CONFIG}: parse and compile, print every issue with its caret. {@code test CONFIG TESTS}: run the
 * decision cases of a tests file (format in CONFIG.md) and print a readable diff for each failure.
 *
 * <p>Exit codes: 0 success, 1 invalid config or failing case, 2 usage or unreadable tests file.
 */
public final class PolicyCli {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private static final String USAGE_TEXT = """
      usage: policy-cli validate CONFIG.yaml
             policy-cli test CONFIG.yaml TESTS.yaml
      environment: PORTCULLIS_HASH_KEY  HMAC key of the hash mask (default: a fixed development key)""";

  /** Fixed so that expected {@code hash} values in a tests file are reproducible; never used by the gateway. */
  private static final String DEV_HASH_KEY = "portcullis-policy-cli-dev-key";

  private PolicyCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the CLI and returns the exit code (tests call this in-process). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    Objects.requireNonNull(args, "args");
    if (args.length == 2 && args[0].equals("validate")) {
      return validate(Path.of(args[1]), out, err);
    }
    if (args.length == 3 && args[0].equals("test")) {
      return test(Path.of(args[1]), Path.of(args[2]), out, err);
    }
    err.println(USAGE_TEXT);
    return USAGE;
  }

  private static int validate(Path config, PrintStream out, PrintStream err) {
    PolicySnapshot snap = compile(config, err);
    if (snap == null) {
      return FAILED;
    }
    var c = snap.config();
    long cel = snap.conditionEngines().values().stream().filter("cel"::equals).count();
    out.printf(Locale.ROOT, "%s: OK (%d apps, %d datasets, %d grants, %d policy blocks, %d routes; %d of %d"
            + " conditions need the CEL interpreter)%n", config, c.apps().size(), c.datasets().size(),
        c.grants().size(), c.policies().size(), c.routes().size(), cel, snap.conditionEngines().size());
    return OK;
  }

  private static @Nullable PolicySnapshot compile(Path config, PrintStream err) {
    try {
      LocatedConfig lc = PolicyConfigLoader.loadLocated(config);
      return PolicyCompiler.compile(lc, options());
    } catch (PolicyConfigException e) {
      err.println(e.render());
      err.printf(Locale.ROOT, "%n%s: %d issue%s%n", config, e.issues().size(), e.issues().size() == 1 ? "" : "s");
      return null;
    }
  }

  private static CompileOptions options() {
    String key = System.getenv("PORTCULLIS_HASH_KEY");
    byte[] bytes = (key == null || key.length() < 16 ? DEV_HASH_KEY : key).getBytes(StandardCharsets.UTF_8);
    return new CompileOptions(0, bytes, Clock.systemUTC());
  }

  // ---- test ---------------------------------------------------------------------------------------------------

  private static int test(Path config, Path tests, PrintStream out, PrintStream err) {
    PolicySnapshot snap = compile(config, err);
    if (snap == null) {
      return FAILED;
    }
    JsonNode root;
    try {
      root = YAMLMapper.builder().build().readTree(Files.readString(tests, StandardCharsets.UTF_8));
    } catch (IOException | JacksonException e) {
      err.println(tests + ": cannot read: " + e.getMessage());
      return USAGE;
    }
    JsonNode cases = root == null ? null : root.get("cases");
    if (cases == null || !cases.isArray() || cases.isEmpty()) {
      err.println(tests + ": expected a top-level 'cases' list");
      return USAGE;
    }
    int passed = 0;
    int failed = 0;
    for (int i = 0; i < cases.size(); i++) {
      JsonNode c = cases.get(i);
      String name = c.has("name") ? c.get("name").asString() : "cases[" + i + "]";
      List<String> diffs = new ArrayList<>();
      try {
        runCase(snap, c, diffs);
      } catch (IllegalArgumentException | DateTimeParseException e) {
        diffs.add("  invalid case: " + e.getMessage());
      }
      if (diffs.isEmpty()) {
        passed++;
        out.println("PASS " + name);
      } else {
        failed++;
        out.println("FAIL " + name);
        diffs.forEach(out::println);
      }
    }
    out.printf(Locale.ROOT, "%n%d passed, %d failed%n", passed, failed);
    return failed == 0 ? OK : FAILED;
  }

  private static void runCase(PolicySnapshot snap, JsonNode c, List<String> diffs) {
    JsonNode t = required(c, "token");
    JsonNode r = required(c, "request");
    JsonNode expect = required(c, "expect");
    Set<String> scopes = new LinkedHashSet<>();
    JsonNode scope = t.get("scope");
    if (scope != null && scope.isArray()) {
      scope.forEach(s -> scopes.add(s.asString()));
    } else if (scope != null && !scope.isNull()) {
      scopes.addAll(Arrays.asList(scope.asString().trim().split("\\s+")));
      scopes.remove("");
    }
    Map<String, Object> attrs = new LinkedHashMap<>();
    JsonNode a = t.get("attrs");
    if (a != null && a.isObject()) {
      for (Map.Entry<String, JsonNode> e : a.properties()) {
        Object v = plain(e.getValue());
        if (v != null) {
          attrs.put(e.getKey(), v);
        }
      }
    }
    Instant time = r.has("time") ? Instant.parse(r.get("time").asString()) : Instant.now();
    String clientId = required(t, "client_id").asString();
    TokenClaims token = new TokenClaims(t.has("sub") ? t.get("sub").asString() : clientId, clientId, scopes,
        t.has("tier") ? t.get("tier").asInt() : 1, attrs, "test-jti", time.minusSeconds(60), time.plusSeconds(600));
    Action action = Action.valueOf(required(r, "action").asString().toUpperCase(Locale.ROOT));
    String method = r.has("method") ? r.get("method").asString() : switch (action) {
      case READ -> "GET";
      case CREATE -> "POST";
      case UPDATE -> "PATCH";
      case DELETE -> "DELETE";
    };
    String dataset = required(r, "dataset").asString();
    Decision d = snap.decide(new DecisionRequest(token, dataset, action, method,
        r.has("path") ? r.get("path").asString() : "/data/" + dataset,
        r.has("ip") ? r.get("ip").asString() : "127.0.0.1", time));

    String expectedOutcome = expect.has("deny") ? expect.get("deny").asString()
        : expect.has("allow") && expect.get("allow").asBoolean() ? "allow" : null;
    if (expectedOutcome == null) {
      throw new IllegalArgumentException("expect needs 'allow: true' or 'deny: <code>'");
    }
    String actualOutcome = d.allowed() ? "allow" : d.denyCode().code();
    compare(diffs, "outcome", expectedOutcome, actualOutcome + (d.allowed() ? "" : " (" + d.reason() + ")"),
        expectedOutcome.equals(actualOutcome));
    if (expect.has("policies")) {
      List<String> want = strings(expect.get("policies"));
      compare(diffs, "policies", want, d.policyIds(), want.equals(d.policyIds()));
    }
    if (expect.has("row_filter")) {
      JsonNode rf = expect.get("row_filter");
      BoundRowFilter f = d.rowFilter();
      if (rf.isNull() || (rf.isString() && rf.asString().equals("none"))) {
        compare(diffs, "row_filter", "none", f.isEmpty() ? "none" : f.sql(), f.isEmpty());
      } else {
        if (rf.has("sql")) {
          String want = rf.get("sql").asString().trim();
          compare(diffs, "row_filter.sql", want, f.sql(), want.equals(f.sql()));
        }
        if (rf.has("params")) {
          Object want = plain(rf.get("params"));
          List<Object> got = new ArrayList<>();
          for (Object p : f.params()) {
            got.add(p instanceof Object[] arr ? Arrays.asList(arr) : p);
          }
          compare(diffs, "row_filter.params", want, got, sameValues(want, got));
        }
      }
    }
    if (expect.has("masked")) {
      Set<String> want = new LinkedHashSet<>(strings(expect.get("masked")));
      compare(diffs, "masked", want, d.columns().maskedColumns(), want.equals(d.columns().maskedColumns()));
    }
    if (expect.has("masks")) {
      Map<String, String> got = new LinkedHashMap<>();
      d.columns().columns().forEach(col -> {
        if (col.mask() != null) {
          got.put(col.name(), col.mask().spec());
        }
      });
      Map<String, String> want = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : expect.get("masks").properties()) {
        want.put(e.getKey(), e.getValue().asString());
      }
      compare(diffs, "masks", want, got, want.equals(got));
    }
    if (expect.has("hidden")) {
      Set<String> want = new LinkedHashSet<>(strings(expect.get("hidden")));
      compare(diffs, "hidden", want, d.columns().hiddenColumns(), want.equals(d.columns().hiddenColumns()));
    }
  }

  private static void compare(List<String> diffs, String what, Object expected, Object actual, boolean equal) {
    if (!equal) {
      diffs.add("  " + what + ":");
      diffs.add("    expected: " + expected);
      diffs.add("    actual:   " + actual);
    }
  }

  /** Numbers compare by value (YAML 2 vs bound 2L vs 2.0). */
  private static boolean sameValues(@Nullable Object a, @Nullable Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString())) == 0;
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!sameValues(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(a, b);
  }

  private static JsonNode required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing '" + field + "'");
    }
    return v;
  }

  private static List<String> strings(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(x -> out.add(x.asString()));
    } else if (!n.isNull()) {
      out.add(n.asString());
    }
    return out;
  }

  private static @Nullable Object plain(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isBoolean()) {
      return n.asBoolean();
    }
    if (n.isIntegralNumber()) {
      return n.asLong();
    }
    if (n.isNumber()) {
      return n.asDouble();
    }
    if (n.isArray()) {
      List<Object> out = new ArrayList<>();
      n.forEach(x -> out.add(plain(x)));
      return out;
    }
    if (n.isObject()) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        out.put(e.getKey(), plain(e.getValue()));
      }
      return out;
    }
    return n.asString();
  }
}

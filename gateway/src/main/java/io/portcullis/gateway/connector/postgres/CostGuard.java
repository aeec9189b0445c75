package io.portcullis.gateway.connector.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.portcullis.gateway.pipeline.QueryEstimate;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Statement;
import java.lang.reflect.Array;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The planner's estimate of a read before it runs (issue #5, cost guard), cached per query shape.
 *
 * <p>The key is the statement text — columns, operators, order, the row filter's shape, the source — and the page
 * size; bound values are not part of it, and the estimate does not look at them: it is PostgreSQL's generic plan
 * ({@code EXPLAIN (GENERIC_PLAN)}, PostgreSQL 16+), the plan a prepared statement gets without knowing its values.
 * A per-value estimate would cost one EXPLAIN round trip per distinct value (unbounded, and driven by the client), and
 * would let a client get a shape admitted with a selective value and then reuse it with an unselective one. The
 * generic plan prices each predicate at the planner's default selectivity, so a verdict holds for every value. The
 * page size is the exception: it bounds the work of an ordered read, and it is bounded by the dataset's
 * {@code max_limit}, so it is inlined as a literal and keyed.
 *
 * <p>Servers before 16 have no generic-plan EXPLAIN. There the statement is explained with its actual values, bound
 * through the extended protocol like the read itself (so a value is never SQL text). Such an estimate holds for those
 * values only, so it is cached per shape and values, in a small bounded cache of its own: a client cycling through
 * values costs one planning round trip per new value (planning only, nothing is executed) and cannot evict the
 * per-shape estimates; each value is priced by itself, so an admitted selective value says nothing about an
 * unselective one. A statement with no values but its page size is cached per shape on any server. Which kind of
 * server a source is, is read once per source from the version it announces when a connection opens.
 *
 * <p>Estimates expire after a while so that a table that grew is priced again.
 */
final class CostGuard {

  /** Per shape and values on servers without generic plans: enough for a working set, small enough to not matter. */
  static final int VALUE_ESTIMATES = 1024;
  /** The first PostgreSQL major version with {@code EXPLAIN (GENERIC_PLAN)}. */
  static final int GENERIC_PLAN_SINCE = 16;
  /** Session setting the DO block leaves the plan in (the driver refuses {@code $n} text without bound values). */
  private static final String PLAN_SETTING = "portcullis.explain_plan";

  private final Cache<String, QueryEstimate> estimates;
  private final Cache<String, QueryEstimate> valueEstimates;
  /** Per source name: does its server have generic plans. Learned on the first estimate, kept for the process. */
  private final Map<String, Boolean> genericPlans = new ConcurrentHashMap<>();
  private final ObjectMapper json = JsonMapper.builder().build();

  CostGuard(int shapes, Duration expireAfter) {
    this.estimates = Caffeine.newBuilder().maximumSize(shapes).expireAfterWrite(expireAfter).build();
    this.valueEstimates = Caffeine.newBuilder().maximumSize(Math.min(shapes, VALUE_ESTIMATES))
        .expireAfterWrite(expireAfter).build();
  }

  /**
   * The estimate of {@code statement}; only successful estimates are kept (a failed EXPLAIN is the request's
   * {@code upstream_unavailable}, and the next request of the shape asks again). Two first requests of one shape may
   * both explain it; that is cheaper than coordinating them.
   */
  Mono<QueryEstimate> estimate(String sourceName, ConnectionFactory connections, SelectStatement statement) {
    String sql = statement.withLiteralLimit();
    String key = sourceName + '\n' + sql;
    QueryEstimate known = estimates.getIfPresent(key);
    if (known != null) {
      return Mono.just(known);
    }
    List<Object> values = statement.binds().subList(0, statement.binds().size() - 1);
    @Nullable String valueKey = values.isEmpty() ? null : key + '\n' + valuesKey(values);
    if (valueKey != null && Boolean.FALSE.equals(genericPlans.get(sourceName))) {
      QueryEstimate byValue = valueEstimates.getIfPresent(valueKey);
      if (byValue != null) {
        return Mono.just(byValue);
      }
    }
    return Flux.usingWhen(SourcePools.connect(connections),
            (Connection c) -> {
              boolean generic = genericPlans.computeIfAbsent(sourceName, s -> hasGenericPlans(c));
              if (generic || valueKey == null) {
                return explainGeneric(c, sql).doOnNext(e -> estimates.put(key, e));
              }
              return explainBound(c, sql, values).doOnNext(e -> valueEstimates.put(valueKey, e));
            },
            Connection::close)
        .last();
  }

  /** Whether {@code source}'s server has generic plans, by what it is known as in this guard (null: not yet asked). */
  @Nullable Boolean genericPlans(String sourceName) {
    return genericPlans.get(sourceName);
  }

  private Mono<QueryEstimate> explainGeneric(Connection c, String sql) {
    String body = "BEGIN EXECUTE 'EXPLAIN (FORMAT JSON, GENERIC_PLAN) ' || " + literal(sql)
        + " INTO " + "portcullis_plan; PERFORM set_config('" + PLAN_SETTING + "', portcullis_plan::text, false); END";
    String script = "DO " + literal("DECLARE portcullis_plan json; " + body) + "; SELECT current_setting('"
        + PLAN_SETTING + "')";
    return Flux.from(c.createStatement(script).execute())
        .concatMap(r -> r.map((row, meta) -> row.get(0, String.class)))
        .last()
        .map(this::parse);
  }

  /** EXPLAIN of the statement with its values bound, as the read will run (PostgreSQL before 16). */
  private Mono<QueryEstimate> explainBound(Connection c, String sql, List<Object> values) {
    Statement st = c.createStatement("EXPLAIN (FORMAT JSON) " + sql);
    for (int i = 0; i < values.size(); i++) {
      Object v = values.get(i);
      if (v == null) {
        st.bindNull(i, String.class);
      } else {
        st.bind(i, v);
      }
    }
    return Flux.from(st.execute())
        .concatMap(r -> r.map((row, meta) -> row.get(0, String.class)))
        .last()
        .map(this::parse);
  }

  /**
   * The server's major version from what it announced at connect ({@code server_version}, e.g. {@code "15.20
   * (Debian 15.20-0+deb12u1)"}); a version it cannot read counts as old, since explaining with values works on
   * every server.
   */
  static boolean hasGenericPlans(Connection c) {
    return majorVersion(c.getMetadata().getDatabaseVersion()) >= GENERIC_PLAN_SINCE;
  }

  static int majorVersion(String version) {
    int end = 0;
    while (end < version.length() && Character.isDigit(version.charAt(end))) {
      end++;
    }
    return end == 0 || end > 4 ? 0 : Integer.parseInt(version.substring(0, end));
  }

  QueryEstimate parse(String planJson) {
    JsonNode plan = json.readTree(planJson).path(0).path("Plan");
    if (!plan.isObject()) {
      throw new IllegalStateException("EXPLAIN gave no plan");
    }
    return new QueryEstimate(plan.path("Total Cost").asDouble(), plan.path("Plan Rows").asDouble(),
        plan.path("Plan Width").asInt());
  }

  /** A key for bound values that tells apart what the server would: type and exact text, arrays element by element. */
  static String valuesKey(List<Object> values) {
    StringBuilder key = new StringBuilder();
    for (Object v : values) {
      appendValue(key, v);
    }
    return key.toString();
  }

  private static void appendValue(StringBuilder key, @Nullable Object v) {
    if (v == null) {
      key.append("n;");
    } else if (v.getClass().isArray()) {
      int n = Array.getLength(v);
      key.append(v.getClass().getComponentType().getName()).append('[').append(n).append(':');
      for (int i = 0; i < n; i++) {
        appendValue(key, Array.get(v, i));
      }
      key.append(']');
    } else {
      String text = v.toString();
      key.append(v.getClass().getName()).append(':').append(text.length()).append(':').append(text).append(';');
    }
  }

  /** A standard SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1). */
  static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}

package io.portcullis.gateway.connector.postgres;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.portcullis.gateway.pipeline.QueryEstimate;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
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
 * <p>Estimates expire after a while so that a table that grew is priced again.
 */
final class CostGuard {

  /** Session setting the DO block leaves the plan in (the driver refuses {@code $n} text without bound values). */
  private static final String PLAN_SETTING = "portcullis.explain_plan";

  private final Cache<String, QueryEstimate> estimates;
  private final ObjectMapper json = JsonMapper.builder().build();

  CostGuard(int shapes, Duration expireAfter) {
    this.estimates = Caffeine.newBuilder().maximumSize(shapes).expireAfterWrite(expireAfter).build();
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
    return explain(connections, sql).doOnNext(e -> estimates.put(key, e));
  }

  private Mono<QueryEstimate> explain(ConnectionFactory connections, String sql) {
    String body = "BEGIN EXECUTE 'EXPLAIN (FORMAT JSON, GENERIC_PLAN) ' || " + literal(sql)
        + " INTO " + "portcullis_plan; PERFORM set_config('" + PLAN_SETTING + "', portcullis_plan::text, false); END";
    String script = "DO " + literal("DECLARE portcullis_plan json; " + body) + "; SELECT current_setting('"
        + PLAN_SETTING + "')";
    return Flux.usingWhen(SourcePools.connect(connections),
            (Connection c) -> Flux.from(c.createStatement(script).execute())
                .concatMap(r -> r.map((row, meta) -> row.get(0, String.class))),
            Connection::close)
        .last()
        .map(this::parse);
  }

  QueryEstimate parse(String planJson) {
    JsonNode plan = json.readTree(planJson).path(0).path("Plan");
    if (!plan.isObject()) {
      throw new IllegalStateException("EXPLAIN gave no plan");
    }
    return new QueryEstimate(plan.path("Total Cost").asDouble(), plan.path("Plan Rows").asDouble(),
        plan.path("Plan Width").asInt());
  }

  /** A standard SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1). */
  static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }
}

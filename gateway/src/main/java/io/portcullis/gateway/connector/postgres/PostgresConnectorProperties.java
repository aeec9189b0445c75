package io.portcullis.gateway.connector.postgres;

import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The PostgreSQL connector ({@code portcullis.data}).
 *
 * @param statementTimeout  how long a read may wait for its next row, and a write statement may run or wait for a lock,
 *                          when its dataset sets no {@code statement_timeout}
 * @param costCacheShapes   how many query shapes' cost estimates are kept (DESIGN.md §1 stage 4, the cost guard)
 * @param tiers             per app tier (0, 1, 2): {@code max-query-cost}, the planner cost above which a read is
 *                          refused with {@code query_too_expensive}; 0 = no tier limit (the dataset's may still apply).
 *                          A tier not configured gets {@link #defaultMaxQueryCost(int)}
 * @param sources           data sources that datasets name in {@code source.connection}; their URLs and credentials
 *                          live here, never in the policy
 */
@ConfigurationProperties("portcullis.data")
public record PostgresConnectorProperties(
    @DefaultValue("15s") Duration statementTimeout,
    @DefaultValue("10000") int costCacheShapes,
    @Nullable Map<Integer, TierLimit> tiers,
    @Nullable Map<String, Source> sources) {

  public PostgresConnectorProperties {
    if (statementTimeout.isZero() || statementTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "portcullis.data.statement-timeout: %s (expected: > 0)".formatted(statementTimeout));
    }
    if (costCacheShapes < 1) {
      throw new IllegalArgumentException(
          "portcullis.data.cost-cache-shapes: %s (expected: >= 1)".formatted(costCacheShapes));
    }
    tiers = tiers == null ? Map.of() : Map.copyOf(tiers);
    sources = sources == null ? Map.of() : Map.copyOf(sources);
  }

  /**
   * Planner-cost limits of tiers 0, 1 and 2 when the configuration names none, in PostgreSQL cost units with the
   * server's default cost settings. Measured on a 1,000,000-row, 42-byte-row table: a page in key order costs
   * ~4 (100 rows) to ~36 (1,000 rows), an export of all rows in key order ~36,000, a scan on an unindexed filter
   * ~16,500, the first page ordered by an unindexed column (top-N sort) ~31,000, and a full sort ~164,000.
   * <ul>
   *   <li>tier 0 (personal/sandbox, synthetic data): 10,000 — pages and filtered reads of tables up to a few hundred
   *       thousand rows; a sandbox app that scans or sorts a large table is a bug to find early;
   *   <li>tier 1 (team): 100,000 — exports in key order and scans or top-N sorts of a few million rows, refusing a
   *       full sort of a million rows;
   *   <li>tier 2 (business-critical): 1,000,000 — only runaway reads (a sort of tens of millions of rows, an
   *       accidental cross join through a view), which the statement timeout would otherwise have to end.
   * </ul>
   */
  public static double defaultMaxQueryCost(int tier) {
    return switch (tier) {
      case 0 -> 10_000;
      case 1 -> 100_000;
      case 2 -> 1_000_000;
      default -> 0;
    };
  }

  /** The tier's planner-cost limit (its configured one, else its default), or 0 when it has none. */
  public double maxQueryCost(int tier) {
    TierLimit t = tiers.get(tier);
    return t != null ? t.maxQueryCost() : defaultMaxQueryCost(tier);
  }

  /** @param maxQueryCost PostgreSQL planner cost units; 0 = no limit */
  public record TierLimit(@DefaultValue("0") double maxQueryCost) {
    public TierLimit {
      if (maxQueryCost < 0) {
        throw new IllegalArgumentException("max-query-cost: %s (expected: >= 0)".formatted(maxQueryCost));
      }
    }
  }

  /**
   * One data source's own connection pool.
   *
   * @param url            {@code r2dbc:postgresql://user:pass@host:port/db}
   * @param poolSize       connections at most
   * @param acquireTimeout how long a request waits for one of them before {@code upstream_unavailable}
   * @param connectTimeout how long opening a connection may take before {@code upstream_unavailable}
   */
  public record Source(String url, @DefaultValue("8") int poolSize, @DefaultValue("2s") Duration acquireTimeout,
      @DefaultValue("2s") Duration connectTimeout) {
    public Source {
      if (url == null || url.isBlank()) {
        throw new IllegalArgumentException("portcullis.data.sources.*.url: empty (expected: r2dbc:postgresql://…)");
      }
      if (poolSize < 1) {
        throw new IllegalArgumentException("pool-size: %s (expected: >= 1)".formatted(poolSize));
      }
    }
  }
}

package io.portcullis.policy.model;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A governed resource (DESIGN.md §2); {@code contract} is the JSON Schema text writes are validated against.
 *
 * @param statementTimeout how long a read may wait for its next row, and a write's statement may run or wait for a
 *                         lock, before it is cancelled in the datastore; null = the gateway's default
 * @param maxCost          the most a read may cost by the datastore planner's estimate (PostgreSQL cost units);
 *                         0 = no limit of the dataset's own
 */
public record Dataset(
    String name,
    Template template,
    Set<String> tags,
    Source source,
    List<Column> columns,
    int maxLimit,
    int defaultLimit,
    double costWeight,
    TemplateColumns roles,
    @Nullable String contract,
    @Nullable Duration statementTimeout,
    double maxCost) {

  public Dataset {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(template, "template");
    tags = Set.copyOf(tags);
    Objects.requireNonNull(source, "source");
    columns = List.copyOf(columns);
    Objects.requireNonNull(roles, "roles");
  }

  /** A dataset with the gateway's default statement timeout and no cost limit of its own. */
  public Dataset(String name, Template template, Set<String> tags, Source source, List<Column> columns, int maxLimit,
      int defaultLimit, double costWeight, TemplateColumns roles, @Nullable String contract) {
    this(name, template, tags, source, columns, maxLimit, defaultLimit, costWeight, roles, contract, null, 0);
  }

  public @Nullable Column column(String columnName) {
    for (Column c : columns) {
      if (c.name().equals(columnName)) {
        return c;
      }
    }
    return null;
  }
}

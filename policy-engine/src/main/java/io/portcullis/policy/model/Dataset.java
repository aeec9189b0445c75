package io.portcullis.policy.model;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** A governed resource (DESIGN.md §2); {@code contract} is the JSON Schema text writes are validated against. */
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
    @Nullable String contract) {

  public Dataset {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(template, "template");
    tags = Set.copyOf(tags);
    Objects.requireNonNull(source, "source");
    columns = List.copyOf(columns);
    Objects.requireNonNull(roles, "roles");
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

package io.portcullis.policy.model;

import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** What {@code app} may do on {@code dataset}; {@code rowFilter} and {@code condition} are CEL (DESIGN.md §3). */
public record Grant(
    String id,
    String app,
    String dataset,
    Set<Action> actions,
    @Nullable String rowFilter,
    ColumnRule columns,
    @Nullable String condition,
    @Nullable Approval approval) {

  public Grant {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(dataset, "dataset");
    actions = Set.copyOf(actions);
    Objects.requireNonNull(columns, "columns");
  }
}

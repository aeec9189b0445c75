package io.portcullis.policy;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which columns a decision lets through and how each is masked. Built once per grant when the snapshot is compiled;
 * decisions share the instance.
 */
public final class ColumnPlan {
  static final ColumnPlan NONE = new ColumnPlan(List.of(), Set.of());

  private final List<PlannedColumn> columns;
  private final Map<String, PlannedColumn> byName;
  private final Set<String> masked;
  private final @Nullable String maskedList;
  private final Set<String> hidden;

  ColumnPlan(List<PlannedColumn> columns, Set<String> hidden) {
    this.columns = List.copyOf(columns);
    Map<String, PlannedColumn> m = new HashMap<>();
    Set<String> mk = new LinkedHashSet<>();
    for (PlannedColumn c : columns) {
      m.put(c.name(), c);
      if (c.mask() != null) {
        mk.add(c.name());
      }
    }
    this.byName = Map.copyOf(m);
    this.masked = Collections.unmodifiableSet(mk);
    this.maskedList = mk.isEmpty() ? null : String.join(", ", mk);
    this.hidden = Collections.unmodifiableSet(new LinkedHashSet<>(hidden));
  }

  /** Visible columns in dataset order. */
  public List<PlannedColumn> columns() {
    return columns;
  }

  public @Nullable PlannedColumn column(String name) {
    return byName.get(name);
  }

  /** Visible columns whose values are masked (the {@code Portcullis-Masked} header), in dataset order. */
  public Set<String> maskedColumns() {
    return masked;
  }

  /** {@link #maskedColumns()} as one comma-separated value (the header's), or null when nothing is masked. */
  public @Nullable String maskedList() {
    return maskedList;
  }

  /** Declared columns the caller may not see (never selected, never named in a response). */
  public Set<String> hiddenColumns() {
    return hidden;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ColumnPlan[");
    for (PlannedColumn c : columns) {
      sb.append(c.name());
      if (c.mask() != null) {
        sb.append('=').append(c.mask().spec());
      }
      sb.append(' ');
    }
    return sb.append("hidden=").append(hidden).append(']').toString();
  }
}

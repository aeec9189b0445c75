package io.portcullis.policy;

import io.portcullis.policy.model.ColumnType;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** A visible column of a decision and the mask to apply to its values ({@code null}: sent as is). */
public record PlannedColumn(String name, ColumnType type, @Nullable Mask mask) {
  public PlannedColumn {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
  }
}

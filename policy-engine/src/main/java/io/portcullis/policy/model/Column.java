package io.portcullis.policy.model;

import java.util.Objects;
import java.util.Set;

/** A declared column of a dataset; tags such as {@code pii} drive policy blocks. */
public record Column(String name, ColumnType type, Set<String> tags, boolean nullable) {
  public Column {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    tags = Set.copyOf(tags);
  }
}

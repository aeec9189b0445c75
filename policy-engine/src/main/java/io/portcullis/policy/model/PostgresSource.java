package io.portcullis.policy.model;

import java.util.Objects;

/** A PostgreSQL table or view; {@code key} is the column {@code /data/{dataset}/{id}} addresses. */
public record PostgresSource(String schema, String table, String key) implements Source {
  public PostgresSource {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(key, "key");
  }
}

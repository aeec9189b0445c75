package io.portcullis.policy.model;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A PostgreSQL table or view; {@code key} is the column {@code /data/{dataset}/{id}} addresses. {@code connection}
 * names one of the gateway's configured data sources ({@code portcullis.data.sources.<name>}: URL, credentials and
 * pool size stay in the gateway's configuration, never in policy); null = the gateway's own database.
 */
public record PostgresSource(String schema, String table, String key, @Nullable String connection) implements Source {
  public PostgresSource {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(key, "key");
  }

  /** A source in the gateway's own database. */
  public PostgresSource(String schema, String table, String key) {
    this(schema, table, key, null);
  }
}

package io.portcullis.gateway.admin;

import org.jspecify.annotations.Nullable;

/**
 * The config entities the admin API edits one at a time. Each is a list in the policy YAML ({@code collection}),
 * identified by {@code key}; the JSON of one entity is exactly its YAML map, so there is one schema for both.
 */
enum EntityKind {
  APP("apps", "id", "app"),
  DATASET("datasets", "name", "dataset"),
  GRANT("grants", "id", "grant"),
  POLICY("policies", "id", "policy"),
  ROUTE("routes", "id", "route");

  private final String collection;
  private final String key;
  private final String singular;

  EntityKind(String collection, String key, String singular) {
    this.collection = collection;
    this.key = key;
    this.singular = singular;
  }

  /** The YAML list and URL segment: {@code apps}, {@code datasets}, … */
  String collection() {
    return collection;
  }

  /** The identifying field: {@code name} for datasets, {@code id} for the others. */
  String key() {
    return key;
  }

  /** The diff's {@code kind}: {@code app}, {@code dataset}, … */
  String singular() {
    return singular;
  }

  static @Nullable EntityKind ofCollection(String collection) {
    for (EntityKind k : values()) {
      if (k.collection.equals(collection)) {
        return k;
      }
    }
    return null;
  }
}

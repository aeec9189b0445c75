package io.portcullis.policy.model;

import java.util.Locale;

/** Declared column types; {@link #sqlType()} is the PostgreSQL type used for casts of bind parameters. */
public enum ColumnType {
  TEXT("text"),
  INTEGER("integer"),
  BIGINT("bigint"),
  NUMERIC("numeric"),
  BOOLEAN("boolean"),
  DATE("date"),
  TIMESTAMPTZ("timestamptz"),
  UUID("uuid"),
  JSONB("jsonb");

  private final String sqlType;

  ColumnType(String sqlType) {
    this.sqlType = sqlType;
  }

  public String sqlType() {
    return sqlType;
  }

  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}

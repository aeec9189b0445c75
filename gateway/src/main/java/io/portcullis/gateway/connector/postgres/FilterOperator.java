package io.portcullis.gateway.connector.postgres;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** The PostgREST-style filter operators of DESIGN.md §6 ({@code col=op.value}). */
enum FilterOperator {
  EQ("="), NEQ("<>"), GT(">"), GTE(">="), LT("<"), LTE("<="), LIKE("LIKE"), ILIKE("ILIKE"), IN("= ANY"), IS("IS");

  private final String sql;

  FilterOperator(String sql) {
    this.sql = sql;
  }

  String sql() {
    return sql;
  }

  static @Nullable FilterOperator parse(String token) {
    return switch (token.toLowerCase(Locale.ROOT)) {
      case "eq" -> EQ;
      case "neq" -> NEQ;
      case "gt" -> GT;
      case "gte" -> GTE;
      case "lt" -> LT;
      case "lte" -> LTE;
      case "like" -> LIKE;
      case "ilike" -> ILIKE;
      case "in" -> IN;
      case "is" -> IS;
      default -> null;
    };
  }
}

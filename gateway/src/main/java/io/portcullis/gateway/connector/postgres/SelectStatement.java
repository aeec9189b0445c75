package io.portcullis.gateway.connector.postgres;

import io.portcullis.policy.BoundRowFilter;
import io.portcullis.policy.PlannedColumn;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One parameterized SELECT (DESIGN.md §1 stage 4): only permitted columns, identifiers only from the dataset's
 * declared columns, every value a bind parameter. The row filter's parameters come first ($1..$k), ours follow.
 *
 * @param sql         the statement text
 * @param binds       values for $1..$n in order
 * @param fetched     the columns in the SELECT list: the requested ones, then order columns needed for the cursor
 * @param written     how many of {@code fetched} (a prefix) go to the client
 * @param fingerprint hash of the statement's shape (no values), for audit and cost caching
 */
record SelectStatement(String sql, List<Object> binds, List<String> fetched, int written, String fingerprint) {

  static SelectStatement build(String qualifiedTable, @Nullable String softDeleteColumn, BoundRowFilter rowFilter,
      DataQuery query, @Nullable String keyColumn, @Nullable Object keyValue) {
    List<Object> binds = new ArrayList<>();
    for (Object p : rowFilter.params()) {
      binds.add(p);
    }
    List<String> fetched = new ArrayList<>();
    for (PlannedColumn c : query.select()) {
      fetched.add(c.name());
    }
    int written = fetched.size();
    for (DataQuery.Order o : query.order()) {
      if (!fetched.contains(o.column())) {
        fetched.add(o.column());
      }
    }
    StringBuilder sql = new StringBuilder(256).append("SELECT ");
    for (int i = 0; i < fetched.size(); i++) {
      if (i > 0) {
        sql.append(", ");
      }
      quote(sql, fetched.get(i));
    }
    sql.append(" FROM ").append(qualifiedTable).append(" WHERE (")
        .append(rowFilter.isEmpty() ? "TRUE" : rowFilter.sql()).append(')');
    if (softDeleteColumn != null) {
      sql.append(" AND ");
      quote(sql, softDeleteColumn).append(" IS NULL");
    }
    if (keyColumn != null) {
      sql.append(" AND ");
      quote(sql, keyColumn).append(" = ").append(bind(binds, keyValue));
    }
    for (DataQuery.Filter f : query.filters()) {
      sql.append(" AND ");
      if (f.negated()) {
        sql.append("NOT (");
      }
      quote(sql, f.column()).append(' ');
      switch (f.operator()) {
        case IS -> sql.append(f.value() == null ? "IS NULL" : (Boolean.TRUE.equals(f.value()) ? "IS TRUE" : "IS FALSE"));
        case IN -> sql.append("= ANY(").append(bind(binds, f.value())).append(')');
        default -> sql.append(f.operator().sql()).append(' ').append(bind(binds, f.value()));
      }
      if (f.negated()) {
        sql.append(')');
      }
    }
    if (query.after() != null) {
      sql.append(" AND ");
      keyset(sql, binds, query.order(), query.after());
    }
    sql.append(" ORDER BY ");
    for (int i = 0; i < query.order().size(); i++) {
      DataQuery.Order o = query.order().get(i);
      if (i > 0) {
        sql.append(", ");
      }
      quote(sql, o.column()).append(o.descending() ? " DESC" : " ASC");
    }
    // One row more than asked tells whether a next page exists without a COUNT.
    sql.append(" LIMIT ").append(bind(binds, query.limit() + 1));
    return new SelectStatement(sql.toString(), List.copyOf(binds), List.copyOf(fetched), written,
        fingerprint(shape(sql.toString(), rowFilter)));
  }

  /**
   * The statement with its page size written as a literal instead of the last bind marker: what the cost guard
   * explains (the size is an integer the gateway produced, never client text).
   */
  String withLiteralLimit() {
    int at = sql.lastIndexOf(" LIMIT $");
    Object limit = binds.get(binds.size() - 1);
    if (at < 0 || !(limit instanceof Integer)) {
      throw new IllegalStateException("a SELECT ends with its bound LIMIT");
    }
    return sql.substring(0, at) + " LIMIT " + limit;
  }

  /**
   * Rows after the cursor, for any mix of directions, with PostgreSQL's default NULL placement (last when ascending,
   * first when descending): (a > x) OR (a = x AND (b > y OR (b = y AND …))).
   */
  private static void keyset(StringBuilder sql, List<Object> binds, List<DataQuery.Order> order, List<Object> after) {
    sql.append('(');
    keysetFrom(sql, binds, order, after, 0);
    sql.append(')');
  }

  private static void keysetFrom(StringBuilder sql, List<Object> binds, List<DataQuery.Order> order, List<Object> after, int i) {
    DataQuery.Order o = order.get(i);
    Object v = after.get(i);
    sql.append('(');
    if (v == null) {
      // Ascending: NULLs come last, nothing is after them but equal NULLs. Descending: NULLs first, all else after.
      sql.append(o.descending() ? quoted(o.column()) + " IS NOT NULL" : "FALSE");
    } else if (o.descending()) {
      sql.append(quoted(o.column())).append(" < ").append(bind(binds, v));
    } else {
      sql.append('(').append(quoted(o.column())).append(" > ").append(bind(binds, v)).append(" OR ")
          .append(quoted(o.column())).append(" IS NULL)");
    }
    if (i + 1 < order.size()) {
      sql.append(" OR (");
      sql.append(v == null ? quoted(o.column()) + " IS NULL" : quoted(o.column()) + " = " + bind(binds, v));
      sql.append(" AND ");
      keysetFrom(sql, binds, order, after, i + 1);
      sql.append(')');
    }
    sql.append(')');
  }

  private static String bind(List<Object> binds, @Nullable Object value) {
    binds.add(value);
    return "$" + binds.size();
  }

  static StringBuilder quote(StringBuilder sql, String identifier) {
    return sql.append('"').append(identifier.replace("\"", "\"\"")).append('"');
  }

  static String quoted(String identifier) {
    return quote(new StringBuilder(), identifier).toString();
  }

  private static String shape(String sql, BoundRowFilter rowFilter) {
    return rowFilter.fingerprint() + "|" + sql;
  }

  static String fingerprint(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JRE", e);
    }
  }
}

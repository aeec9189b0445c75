package io.portcullis.gateway.connector.postgres;

import io.portcullis.policy.BoundRowFilter;
import io.portcullis.policy.model.ColumnType;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One parameterized write statement. Identifiers come only from the dataset's declared columns and roles (quoted),
 * every value is a bind parameter, and the row filter is numbered first ($1..$k) as in reads.
 *
 * <p>Inserts and updates return the written row through a CTE that also evaluates the row filter on the row as
 * written: a write that would put a row outside the app's filter (another owner, another region) is detected in the
 * same statement and rolled back by the caller.
 *
 * @param sql   the statement text
 * @param binds values for $1..$n
 */
record WriteStatement(String sql, List<Bind> binds) {

  /** A bind value and, for a null, the Java type PostgreSQL is told. */
  record Bind(@Nullable Object value, Class<?> type) {

    static Bind of(Object value) {
      return new Bind(value, value.getClass());
    }
  }

  /** {@code column = value}, or {@code column = now()} when {@code now}. */
  record Assignment(String column, ColumnType type, @Nullable Object value, boolean now) {

    static Assignment value(String column, ColumnType type, @Nullable Object value) {
      return new Assignment(column, type, value, false);
    }

    static Assignment now(String column, ColumnType type) {
      return new Assignment(column, type, null, true);
    }
  }

  /**
   * {@code WITH w AS (INSERT … RETURNING *) SELECT returning…, (row filter) FROM w}: the new row's permitted
   * columns followed by whether it satisfies the row filter.
   */
  static WriteStatement insert(String table, BoundRowFilter rowFilter, List<Assignment> assignments,
      List<String> returning) {
    List<Bind> binds = rowFilterBinds(rowFilter);
    StringBuilder sql = new StringBuilder(256).append("WITH w AS (INSERT INTO ").append(table).append(" (");
    columnsAndValues(sql, binds, assignments);
    sql.append(") RETURNING *) ");
    returningWithFilter(sql, rowFilter, returning);
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /**
   * {@code WITH w AS (UPDATE … WHERE (row filter) [AND not soft-deleted] AND key = $n RETURNING *) SELECT …}: the
   * filter decides which rows may be touched, and is evaluated again on the row as changed.
   */
  static WriteStatement update(String table, BoundRowFilter rowFilter, @Nullable String softDelete, String key,
      Object keyValue, List<Assignment> assignments, List<String> returning) {
    List<Bind> binds = rowFilterBinds(rowFilter);
    StringBuilder sql = new StringBuilder(256).append("WITH w AS (UPDATE ").append(table).append(" SET ");
    set(sql, binds, assignments);
    where(sql, binds, rowFilter, softDelete, key, keyValue);
    sql.append(" RETURNING *) ");
    returningWithFilter(sql, rowFilter, returning);
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /** Soft delete: {@code UPDATE … SET deleted = now() WHERE (row filter) AND deleted IS NULL AND key = $n}. */
  static WriteStatement softDelete(String table, BoundRowFilter rowFilter, String softDelete, ColumnType softDeleteType,
      String key, Object keyValue) {
    List<Bind> binds = rowFilterBinds(rowFilter);
    StringBuilder sql = new StringBuilder(160).append("UPDATE ").append(table).append(" SET ");
    set(sql, binds, List.of(Assignment.now(softDelete, softDeleteType)));
    where(sql, binds, rowFilter, softDelete, key, keyValue);
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  static WriteStatement delete(String table, BoundRowFilter rowFilter, String key, Object keyValue) {
    List<Bind> binds = rowFilterBinds(rowFilter);
    StringBuilder sql = new StringBuilder(128).append("DELETE FROM ").append(table);
    where(sql, binds, rowFilter, null, key, keyValue);
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /** Locks the row a transition reads, so two reviewers cannot both move it from the same state. */
  static WriteStatement lockForTransition(String table, BoundRowFilter rowFilter, @Nullable String softDelete,
      String key, Object keyValue, List<String> columns) {
    List<Bind> binds = rowFilterBinds(rowFilter);
    StringBuilder sql = new StringBuilder(160).append("SELECT ");
    list(sql, columns);
    sql.append(" FROM ").append(table);
    where(sql, binds, rowFilter, softDelete, key, keyValue);
    sql.append(" FOR UPDATE");
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /** Updates the (already locked and checked) row by key and returns its permitted columns. */
  static WriteStatement transition(String table, String key, Object keyValue, List<Assignment> assignments,
      List<String> returning) {
    List<Bind> binds = new ArrayList<>();
    StringBuilder sql = new StringBuilder(160).append("UPDATE ").append(table).append(" SET ");
    set(sql, binds, assignments);
    sql.append(" WHERE ");
    SelectStatement.quote(sql, key).append(" = ").append(bind(binds, Bind.of(keyValue)));
    sql.append(" RETURNING ");
    list(sql, returning);
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /** {@code "a", "b") VALUES ($n, $n+1} — the shared middle of both INSERT forms. */
  private static void columnsAndValues(StringBuilder sql, List<Bind> binds, List<Assignment> assignments) {
    for (int i = 0; i < assignments.size(); i++) {
      if (i > 0) {
        sql.append(", ");
      }
      SelectStatement.quote(sql, assignments.get(i).column());
    }
    sql.append(") VALUES (");
    for (int i = 0; i < assignments.size(); i++) {
      if (i > 0) {
        sql.append(", ");
      }
      value(sql, binds, assignments.get(i));
    }
  }

  static WriteStatement insertPlain(String table, List<Assignment> assignments) {
    List<Bind> binds = new ArrayList<>();
    StringBuilder sql = new StringBuilder(160).append("INSERT INTO ").append(table).append(" (");
    columnsAndValues(sql, binds, assignments);
    sql.append(')');
    return new WriteStatement(sql.toString(), List.copyOf(binds));
  }

  /** {@code schema.table} from a role such as {@code demo.hr_approvals_history}, each part quoted. */
  static String qualifiedName(String dotted) {
    StringBuilder sql = new StringBuilder();
    String[] parts = dotted.split("\\.", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        sql.append('.');
      }
      SelectStatement.quote(sql, parts[i]);
    }
    return sql.toString();
  }

  private static List<Bind> rowFilterBinds(BoundRowFilter rowFilter) {
    List<Bind> binds = new ArrayList<>();
    for (Object p : rowFilter.params()) {
      binds.add(p == null ? new Bind(null, String.class) : Bind.of(p));
    }
    return binds;
  }

  private static void set(StringBuilder sql, List<Bind> binds, List<Assignment> assignments) {
    for (int i = 0; i < assignments.size(); i++) {
      if (i > 0) {
        sql.append(", ");
      }
      SelectStatement.quote(sql, assignments.get(i).column()).append(" = ");
      value(sql, binds, assignments.get(i));
    }
  }

  private static void where(StringBuilder sql, List<Bind> binds, BoundRowFilter rowFilter, @Nullable String softDelete,
      String key, Object keyValue) {
    sql.append(" WHERE (").append(rowFilter.isEmpty() ? "TRUE" : rowFilter.sql()).append(')');
    if (softDelete != null) {
      sql.append(" AND ");
      SelectStatement.quote(sql, softDelete).append(" IS NULL");
    }
    sql.append(" AND ");
    SelectStatement.quote(sql, key).append(" = ").append(bind(binds, Bind.of(keyValue)));
  }

  private static void returningWithFilter(StringBuilder sql, BoundRowFilter rowFilter, List<String> returning) {
    sql.append("SELECT ");
    list(sql, returning);
    if (!returning.isEmpty()) {
      sql.append(", ");
    }
    sql.append('(').append(rowFilter.isEmpty() ? "TRUE" : rowFilter.sql()).append(") FROM w");
  }

  private static void list(StringBuilder sql, List<String> columns) {
    for (int i = 0; i < columns.size(); i++) {
      if (i > 0) {
        sql.append(", ");
      }
      SelectStatement.quote(sql, columns.get(i));
    }
  }

  private static void value(StringBuilder sql, List<Bind> binds, Assignment a) {
    if (a.now()) {
      sql.append("now()");
      return;
    }
    Object v = a.value();
    if (a.type() == ColumnType.JSONB) {
      String text = v == null ? null : ((BodyValues.JsonText) v).text();
      sql.append("CAST(").append(bind(binds, new Bind(text, String.class))).append(" AS jsonb)");
      return;
    }
    sql.append(bind(binds, v == null ? new Bind(null, ColumnValues.arrayElement(a.type())) : Bind.of(v)));
  }

  private static String bind(List<Bind> binds, Bind value) {
    binds.add(value);
    return "$" + binds.size();
  }
}

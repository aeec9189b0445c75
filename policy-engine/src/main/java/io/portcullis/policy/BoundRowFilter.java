package io.portcullis.policy;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A row filter bound to one request's token: SQL over double-quoted declared columns with {@code $1..$k} (always
 * numbered from 1, so a connector binds these first and numbers its own from k+1), the parameter values, and the
 * in-memory twin with the same NULL semantics (NULL compares unknown, the row is excluded).
 *
 * <p>Parameters are String, Long, Double, Boolean, or arrays of those for {@code = ANY($n)}; a value that does not fit
 * the column type, or a missing token attribute, binds as NULL. Each parameter carries an explicit cast in the SQL
 * text so binders need no type inference.
 */
public final class BoundRowFilter {
  /** No filter: every row passes. */
  public static final BoundRowFilter EMPTY = new BoundRowFilter("TRUE", new Object[0], new Object[0], null, "", Map.of());

  private final String sql;
  private final Object[] params;
  private final Object[] typed;
  private final RowFilterPlan.@Nullable Node root;
  private final String fingerprint;
  private final Map<String, Object> equalities;

  BoundRowFilter(String sql, Object[] params, Object[] typed, RowFilterPlan.@Nullable Node root, String fingerprint,
      Map<String, Object> equalities) {
    this.sql = sql;
    this.params = params;
    this.typed = typed;
    this.root = root;
    this.fingerprint = fingerprint;
    this.equalities = equalities;
  }

  /**
   * The {@code column == value} terms every passing row satisfies (AND-ed at the top level, not under OR or NOT),
   * column name to bound value (String, Long, Double or Boolean); terms whose value bound NULL are left out. An
   * upstream may be asked to pre-filter by these, but its answer is still filtered with {@link #test}.
   */
  public Map<String, Object> equalities() {
    return equalities;
  }

  public boolean isEmpty() {
    return root == null;
  }

  public String sql() {
    return sql;
  }

  /** The bind values of {@code $1..$k}; a fresh array per decision (the caller may hand it to a driver). */
  public Object[] params() {
    return params;
  }

  /** The in-memory twin of {@link #sql()}: true only when the SQL predicate would be TRUE (not NULL) for the row. */
  public boolean test(Function<String, Object> row) {
    Objects.requireNonNull(row, "row");
    return root == null || Boolean.TRUE.equals(root.eval(typed, row));
  }

  /** A stable short hash of the filter text, for audit ({@code row_filter}); empty when there is no filter. */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public String toString() {
    return isEmpty() ? "BoundRowFilter[none]" : "BoundRowFilter[" + sql + " " + Arrays.deepToString(params) + "]";
  }
}

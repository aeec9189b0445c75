package io.portcullis.policy;

import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.ColumnType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One grant's complete row filter, lowered once: the SQL text with {@code $1..$k} in order of appearance, the
 * parameter sources, and the in-memory twin. Binding evaluates only the parameter sources.
 */
final class RowFilterPlan {
  static final RowFilterPlan NONE = new RowFilterPlan(null);

  private final @Nullable Node root;
  private final String sql;
  private final Slot[] slots;
  private final String fingerprint;
  /** Column names and slots of the top-level AND-ed {@code column == value} terms, for {@link BoundRowFilter#equalities()}. */
  private final String[] eqColumns;
  private final int[] eqSlots;

  RowFilterPlan(@Nullable RowExpr expr) {
    List<Slot> s = new ArrayList<>();
    StringBuilder sb = new StringBuilder();
    this.root = expr == null ? null : lower(expr, s, sb);
    this.sql = expr == null ? "TRUE" : sb.toString();
    this.slots = s.toArray(new Slot[0]);
    this.fingerprint = expr == null ? "" : fingerprint(sql);
    List<CompareNode> eqs = new ArrayList<>();
    if (root != null) {
      conjunctEqualities(root, eqs);
    }
    this.eqColumns = new String[eqs.size()];
    this.eqSlots = new int[eqs.size()];
    for (int i = 0; i < eqs.size(); i++) {
      eqColumns[i] = eqs.get(i).column;
      eqSlots[i] = eqs.get(i).slot;
    }
  }

  /**
   * Every row that passes must satisfy these terms: equality comparisons reached from the root through AND only.
   * A term under OR or NOT constrains nothing on its own, so it is never collected.
   */
  private static void conjunctEqualities(Node n, List<CompareNode> out) {
    if (n instanceof JunctionNode j && j.and) {
      for (Node t : j.terms) {
        conjunctEqualities(t, out);
      }
    } else if (n instanceof CompareNode c && c.op == Cond.Op.EQ) {
      out.add(c);
    }
  }

  boolean isEmpty() {
    return root == null;
  }

  String sql() {
    return sql;
  }

  BoundRowFilter bind(EvalContext c) {
    if (root == null) {
      return BoundRowFilter.EMPTY;
    }
    Object[] params = new Object[slots.length];
    Object[] typed = new Object[slots.length];
    for (int i = 0; i < slots.length; i++) {
      slots[i].bind(c, params, typed, i);
    }
    return new BoundRowFilter(sql, params, typed, root, fingerprint, equalities(params));
  }

  private Map<String, Object> equalities(Object[] params) {
    if (eqSlots.length == 0) {
      return Map.of();
    }
    if (eqSlots.length == 1) {
      // the common shape (one owner or tenant term): 24 bytes instead of a LinkedHashMap and its view, ≈ 200
      Object v = params[eqSlots[0]];
      return v == null ? Map.of() : Map.of(eqColumns[0], v);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < eqSlots.length; i++) {
      Object v = params[eqSlots[i]];
      // NULL matches no row; two different values on one column match none either, so the first is as good as any
      if (v != null) {
        out.putIfAbsent(eqColumns[i], v);
      }
    }
    return out.isEmpty() ? Map.of() : Collections.unmodifiableMap(out);
  }

  // ---- parameter sources ------------------------------------------------------------------------------------

  private abstract static class Slot {
    abstract void bind(EvalContext c, Object[] params, Object[] typed, int i);
  }

  private static final class ScalarSlot extends Slot {
    final Operand source;
    final ColumnType type;
    final boolean constant;
    final @Nullable Object constSql;
    final @Nullable Object constTyped;

    ScalarSlot(Operand source, ColumnType type) {
      this.source = source;
      this.type = type;
      this.constant = source instanceof Operand.Literal;
      this.constSql = constant ? SqlValues.sqlValue(((Operand.Literal) source).value(), type) : null;
      this.constTyped = SqlValues.typed(constSql, type);
    }

    @Override
    void bind(EvalContext c, Object[] params, Object[] typed, int i) {
      if (constant) {
        params[i] = constSql;
        typed[i] = constTyped;
        return;
      }
      Object v = SqlValues.sqlValue(source.get(c), type);
      params[i] = v;
      typed[i] = SqlValues.typed(v, type);
    }
  }

  private static final class ArraySlot extends Slot {
    final Operand source;
    final ColumnType type;

    ArraySlot(Operand source, ColumnType type) {
      this.source = source;
      this.type = type;
    }

    @Override
    void bind(EvalContext c, Object[] params, Object[] typed, int i) {
      Object[] arr = SqlValues.sqlArray(source.get(c), type);
      params[i] = arr;
      if (arr == null) {
        typed[i] = null;
        return;
      }
      Object[] t = new Object[arr.length];
      for (int k = 0; k < arr.length; k++) {
        t[k] = SqlValues.typed(arr[k], type);
      }
      typed[i] = t;
    }
  }

  private static final class BoolSlot extends Slot {
    final Cond cond;
    final boolean errorAsTrue;

    BoolSlot(Cond cond, boolean errorAsTrue) {
      this.cond = cond;
      this.errorAsTrue = errorAsTrue;
    }

    @Override
    void bind(EvalContext c, Object[] params, Object[] typed, int i) {
      int r = cond.eval(c);
      // an error binds NULL (unknown): under NOT or OR it can never widen what a row filter lets through
      Boolean b = r == Values.TRUE ? Boolean.TRUE : r == Values.FALSE ? Boolean.FALSE
          : errorAsTrue ? Boolean.TRUE : null;
      params[i] = b;
      typed[i] = b;
    }
  }

  // ---- lowering to SQL and to the in-memory twin ------------------------------------------------------------

  private static Node lower(RowExpr e, List<Slot> slots, StringBuilder sql) {
    if (e instanceof RowExpr.And a) {
      return junction(a.terms(), " AND ", true, slots, sql);
    }
    if (e instanceof RowExpr.Or o) {
      return junction(o.terms(), " OR ", false, slots, sql);
    }
    if (e instanceof RowExpr.Not n) {
      sql.append("(NOT ");
      Node inner = lower(n.term(), slots, sql);
      sql.append(')');
      return new NotNode(inner);
    }
    if (e instanceof RowExpr.Compare c) {
      int slot = slots.size();
      slots.add(new ScalarSlot(c.value(), c.column().type()));
      sql.append('(').append(ident(c.column()));
      if (c.op().ordering() && c.column().type() == ColumnType.TEXT) {
        // code-point order on both sides; the database's collation would disagree with the in-memory twin
        sql.append(" COLLATE \"C\"");
      }
      sql.append(' ').append(c.op().sql()).append(" $").append(slot + 1).append("::")
          .append(SqlValues.sqlCast(c.column().type())).append(')');
      return new CompareNode(c.column(), c.op(), slot);
    }
    if (e instanceof RowExpr.IsNull n) {
      sql.append('(').append(ident(n.column())).append(n.negated() ? " IS NOT NULL)" : " IS NULL)");
      return new IsNullNode(n.column(), n.negated());
    }
    if (e instanceof RowExpr.InList in) {
      int slot = slots.size();
      slots.add(new ArraySlot(in.list(), in.column().type()));
      sql.append('(').append(ident(in.column())).append(" = ANY($").append(slot + 1).append("::")
          .append(SqlValues.sqlArrayType(in.column().type())).append("[]))");
      return new InNode(in.column(), slot);
    }
    if (e instanceof RowExpr.BoolColumn b) {
      sql.append(ident(b.column()));
      return new BoolColumnNode(b.column());
    }
    if (e instanceof RowExpr.TokenTerm t) {
      int slot = slots.size();
      slots.add(new BoolSlot(t.cond(), t.errorAsTrue()));
      sql.append('$').append(slot + 1).append("::boolean");
      return new ParamNode(slot);
    }
    RowExpr.Const k = (RowExpr.Const) e;
    sql.append(k.value() ? "TRUE" : "FALSE");
    return new ConstNode(k.value());
  }

  private static Node junction(List<RowExpr> terms, String op, boolean and, List<Slot> slots, StringBuilder sql) {
    sql.append('(');
    Node[] nodes = new Node[terms.size()];
    for (int i = 0; i < terms.size(); i++) {
      if (i > 0) {
        sql.append(op);
      }
      nodes[i] = lower(terms.get(i), slots, sql);
    }
    sql.append(')');
    return new JunctionNode(nodes, and);
  }

  static String ident(Column c) {
    return '"' + c.name().replace("\"", "\"\"") + '"';
  }

  private static String fingerprint(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  // ---- the in-memory twin: SQL three-valued logic, null = unknown ---------------------------------------------

  abstract static class Node {
    abstract @Nullable Boolean eval(Object[] typed, Function<String, Object> row);
  }

  private static final class JunctionNode extends Node {
    final Node[] terms;
    final boolean and;

    JunctionNode(Node[] terms, boolean and) {
      this.terms = terms;
      this.and = and;
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      boolean unknown = false;
      for (Node t : terms) {
        Boolean r = t.eval(typed, row);
        if (r == null) {
          unknown = true;
        } else if (r != and) {
          return r;
        }
      }
      return unknown ? null : and;
    }
  }

  private static final class NotNode extends Node {
    final Node term;

    NotNode(Node term) {
      this.term = term;
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      Boolean r = term.eval(typed, row);
      return r == null ? null : !r;
    }
  }

  private static final class CompareNode extends Node {
    final String column;
    final ColumnType type;
    final Cond.Op op;
    final int slot;

    CompareNode(Column column, Cond.Op op, int slot) {
      this.column = column.name();
      this.type = column.type();
      this.op = op;
      this.slot = slot;
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      Object p = typed[slot];
      Object v = SqlValues.rowValue(row.apply(column), type);
      if (p == null || v == null) {
        return null;
      }
      int cmp = compare(v, p);
      return switch (op) {
        case EQ -> cmp == 0;
        case NE -> cmp != 0;
        case LT -> cmp < 0;
        case LE -> cmp <= 0;
        case GT -> cmp > 0;
        case GE -> cmp >= 0;
      };
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static int compare(Object a, Object b) {
    int c = Values.compare(a, b);
    if (c != Integer.MIN_VALUE) {
      return c;
    }
    return ((Comparable) a).compareTo(b);
  }

  private static final class IsNullNode extends Node {
    final String column;
    final boolean negated;

    IsNullNode(Column column, boolean negated) {
      this.column = column.name();
      this.negated = negated;
    }

    @Override
    Boolean eval(Object[] typed, Function<String, Object> row) {
      return (row.apply(column) == null) != negated;
    }
  }

  private static final class InNode extends Node {
    final String column;
    final ColumnType type;
    final int slot;

    InNode(Column column, int slot) {
      this.column = column.name();
      this.type = column.type();
      this.slot = slot;
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      Object[] arr = (Object[]) typed[slot];
      if (arr == null) {
        return null;
      }
      if (arr.length == 0) {
        // PostgreSQL: x = ANY('{}') is false even when x is NULL (found by the SQL equivalence property)
        return false;
      }
      Object v = SqlValues.rowValue(row.apply(column), type);
      if (v == null) {
        return null;
      }
      boolean unknown = false;
      for (Object x : arr) {
        if (x == null) {
          unknown = true;
        } else if (compare(v, x) == 0) {
          return true;
        }
      }
      return unknown ? null : false;
    }
  }

  private static final class BoolColumnNode extends Node {
    final String column;

    BoolColumnNode(Column column) {
      this.column = column.name();
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      return (Boolean) SqlValues.rowValue(row.apply(column), ColumnType.BOOLEAN);
    }
  }

  private static final class ParamNode extends Node {
    final int slot;

    ParamNode(int slot) {
      this.slot = slot;
    }

    @Override
    @Nullable Boolean eval(Object[] typed, Function<String, Object> row) {
      return (Boolean) typed[slot];
    }
  }

  private static final class ConstNode extends Node {
    final boolean value;

    ConstNode(boolean value) {
      this.value = value;
    }

    @Override
    Boolean eval(Object[] typed, Function<String, Object> row) {
      return value;
    }
  }
}

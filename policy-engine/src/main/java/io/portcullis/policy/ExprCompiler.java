package io.portcullis.policy;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.runtime.CelRuntime;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.ColumnType;
import io.portcullis.policy.model.Dataset;
import java.util.ArrayList;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Turns CEL into the engine's compiled forms: conditions into {@link Cond} (plain Java for the common subset, a CEL
 * program otherwise) and row filters into {@link RowExpr} (the push-down subset only; anything else is an issue at
 * the position of the offending term).
 */
final class ExprCompiler {
  private static final String SUBSET =
      "not in the push-down subset (comparisons of row.<column> with a literal, list or token attribute, joined by"
          + " &&, || and !)";

  private ExprCompiler() {}

  /** A compiled condition and whether it needed the CEL runtime. */
  record CompiledCondition(Cond cond, boolean java, String text) {}

  static @Nullable CompiledCondition condition(String expression, CelEnv.Site site) {
    CelAbstractSyntaxTree ast = CelEnv.compile(CelEnv.CONDITIONS, expression, site);
    if (ast == null) {
      return null;
    }
    int before = site.issues().size();
    checkAttributes(ast, ast.getExpr(), site);
    if (site.issues().size() > before) {
      return null;
    }
    Cond java = javaCond(ast.getExpr());
    if (java != null) {
      return new CompiledCondition(java, true, expression);
    }
    CelRuntime.Program program = CelEnv.program(ast, site);
    return program == null ? null : new CompiledCondition(new Cond.CelFallback(program), false, expression);
  }

  static @Nullable RowExpr rowFilter(String expression, Dataset dataset, CelEnv.Site site) {
    CelAbstractSyntaxTree ast = CelEnv.compile(CelEnv.ROW_FILTERS, expression, site);
    if (ast == null) {
      return null;
    }
    int before = site.issues().size();
    checkAttributes(ast, ast.getExpr(), site);
    if (site.issues().size() > before) {
      return null;
    }
    RowExpr r = new RowCompiler(ast, dataset, site).row(ast.getExpr());
    return site.issues().size() > before ? null : r;
  }

  // ---- the Java subset of conditions --------------------------------------------------------------------------

  private static @Nullable Cond javaCond(CelExpr e) {
    switch (e.getKind()) {
      case CONSTANT -> {
        if (e.constant().getKind() == CelConstant.Kind.BOOLEAN_VALUE) {
          return e.constant().booleanValue() ? Cond.Const.TRUE : Cond.Const.FALSE;
        }
        return null;
      }
      case SELECT -> {
        Operand o = operand(e);
        return o == null ? null : new Cond.Truthy(o);
      }
      case CALL -> {
        String f = e.call().function();
        List<CelExpr> args = e.call().args();
        if (e.call().target().isPresent()) {
          return null;
        }
        switch (f) {
          case "_&&_", "_||_" -> {
            List<Cond> terms = new ArrayList<>();
            for (CelExpr a : args) {
              Cond c = javaCond(a);
              if (c == null) {
                return null;
              }
              terms.add(c);
            }
            return f.equals("_&&_") ? new Cond.And(terms) : new Cond.Or(terms);
          }
          case "!_" -> {
            Cond c = javaCond(args.get(0));
            return c == null ? null : new Cond.Not(c);
          }
          case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_" -> {
            Operand l = operand(args.get(0));
            Operand r = operand(args.get(1));
            return l == null || r == null ? null : new Cond.Compare(Cond.Op.of(f), l, r);
          }
          case "@in" -> {
            Operand l = operand(args.get(0));
            Operand r = operand(args.get(1));
            return l == null || r == null ? null : new Cond.In(l, r);
          }
          default -> {
            return null;
          }
        }
      }
      default -> {
        return null;
      }
    }
  }

  /** A literal, a list of literals, or an attribute path; null when outside the Java subset. */
  static @Nullable Operand operand(CelExpr e) {
    switch (e.getKind()) {
      case CONSTANT -> {
        Object v = literal(e.constant());
        return v == Values.MISSING ? null : new Operand.Literal(v);
      }
      case LIST -> {
        List<Object> items = new ArrayList<>();
        for (CelExpr item : e.list().elements()) {
          if (item.getKind() != CelExpr.ExprKind.Kind.CONSTANT) {
            return null;
          }
          Object v = literal(item.constant());
          if (v == Values.MISSING) {
            return null;
          }
          items.add(v);
        }
        return new Operand.Literal(java.util.Collections.unmodifiableList(items));
      }
      case SELECT, CALL -> {
        List<String> path = path(e);
        if (path == null || path.size() < 2) {
          return null;
        }
        Map<String, Integer> fields = switch (path.get(0)) {
          case "token" -> Operand.Attr.TOKEN_FIELDS;
          case "app" -> Operand.Attr.APP_FIELDS;
          case "request" -> Operand.Attr.REQUEST_FIELDS;
          default -> null;
        };
        Integer field = fields == null ? null : fields.get(path.get(1));
        if (field == null) {
          return null;
        }
        String[] rest = path.subList(2, path.size()).toArray(new String[0]);
        return new Operand.Attr(field, rest, String.join(".", path));
      }
      default -> {
        return null;
      }
    }
  }

  /** {@code a.b.c} or {@code a.b['c']} as segments; null for anything else (has(), calls, computed keys). */
  static @Nullable List<String> path(CelExpr e) {
    List<String> out = new ArrayList<>();
    CelExpr cur = e;
    while (true) {
      switch (cur.getKind()) {
        case IDENT -> {
          out.add(0, cur.ident().name());
          return out;
        }
        case SELECT -> {
          if (cur.select().testOnly()) {
            return null;
          }
          out.add(0, cur.select().field());
          cur = cur.select().operand();
        }
        case CALL -> {
          List<CelExpr> args = cur.call().args();
          if (!cur.call().function().equals("_[_]") || args.size() != 2
              || args.get(1).getKind() != CelExpr.ExprKind.Kind.CONSTANT
              || args.get(1).constant().getKind() != CelConstant.Kind.STRING_VALUE) {
            return null;
          }
          out.add(0, args.get(1).constant().stringValue());
          cur = args.get(0);
        }
        default -> {
          return null;
        }
      }
    }
  }

  static @Nullable Object literal(CelConstant c) {
    return switch (c.getKind()) {
      case NULL_VALUE -> null;
      case BOOLEAN_VALUE -> c.booleanValue();
      case INT64_VALUE -> c.int64Value();
      case UINT64_VALUE -> c.uint64Value().longValue();
      case DOUBLE_VALUE -> c.doubleValue();
      case STRING_VALUE -> c.stringValue();
      default -> Values.MISSING;
    };
  }

  /** Unknown fields of token/app/request are config mistakes, reported now rather than as a deny at runtime. */
  private static void checkAttributes(CelAbstractSyntaxTree ast, CelExpr e, CelEnv.Site site) {
    if (e.getKind() == CelExpr.ExprKind.Kind.SELECT) {
      CelExpr operand = e.select().operand();
      if (operand.getKind() == CelExpr.ExprKind.Kind.IDENT && !e.select().testOnly()) {
        String root = operand.ident().name();
        String field = e.select().field();
        List<String> known = switch (root) {
          case "token" -> List.of("sub", "subject", "client_id", "scope", "tier", "attrs", "jti");
          case "app" -> List.of("id", "name", "owner", "team", "cost_center", "tier", "status", "consents");
          case "request" -> List.of("method", "path", "ip", "dataset", "action", "time");
          default -> null;
        };
        if (known != null && !known.contains(field)) {
          site.issue(ast, e, "unknown field '" + field + "' of " + root + " (expected one of: "
              + String.join(", ", known) + ")");
        }
      }
      checkAttributes(ast, operand, site);
      return;
    }
    switch (e.getKind()) {
      case CALL -> {
        e.call().target().ifPresent(t -> checkAttributes(ast, t, site));
        e.call().args().forEach(a -> checkAttributes(ast, a, site));
      }
      case LIST -> e.list().elements().forEach(a -> checkAttributes(ast, a, site));
      case COMPREHENSION -> {
        checkAttributes(ast, e.comprehension().iterRange(), site);
        checkAttributes(ast, e.comprehension().loopStep(), site);
      }
      default -> {
      }
    }
  }

  // ---- row filters --------------------------------------------------------------------------------------------

  private static final class RowCompiler {
    private final CelAbstractSyntaxTree ast;
    private final Dataset dataset;
    private final CelEnv.Site site;

    RowCompiler(CelAbstractSyntaxTree ast, Dataset dataset, CelEnv.Site site) {
      this.ast = ast;
      this.dataset = dataset;
      this.site = site;
    }

    @Nullable RowExpr row(CelExpr e) {
      if (!mentionsRow(e)) {
        Cond c = javaCond(e);
        if (c == null) {
          return fail(e, "a term without row must be a comparison or 'in' over token/app/request attributes and"
              + " literals; " + SUBSET);
        }
        return new RowExpr.TokenTerm(c, false, text(e));
      }
      switch (e.getKind()) {
        case SELECT -> {
          Column c = column(e);
          if (c == null) {
            return null;
          }
          if (c.type() != ColumnType.BOOLEAN) {
            return fail(e, "row." + c.name() + " is " + c.type().yamlName() + ", not boolean: compare it with a value");
          }
          return new RowExpr.BoolColumn(c);
        }
        case CALL -> {
          String f = e.call().function();
          List<CelExpr> args = e.call().args();
          switch (f) {
            case "_&&_", "_||_" -> {
              List<RowExpr> terms = new ArrayList<>();
              boolean failed = false;
              for (CelExpr a : args) {
                RowExpr r = row(a);
                if (r == null) {
                  failed = true;  // keep going: report every offending term in one run
                  continue;
                }
                // CEL balances a && b && c into a tree; flat is easier to read in SQL and audit
                if (f.equals("_&&_") && r instanceof RowExpr.And and) {
                  terms.addAll(and.terms());
                } else if (f.equals("_||_") && r instanceof RowExpr.Or or) {
                  terms.addAll(or.terms());
                } else {
                  terms.add(r);
                }
              }
              if (failed) {
                return null;
              }
              return f.equals("_&&_") ? new RowExpr.And(terms) : new RowExpr.Or(terms);
            }
            case "!_" -> {
              RowExpr r = row(args.get(0));
              return r == null ? null : new RowExpr.Not(r);
            }
            case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_" -> {
              return compare(e, Cond.Op.of(f), args.get(0), args.get(1));
            }
            case "@in" -> {
              return in(e, args.get(0), args.get(1));
            }
            default -> {
              return fail(e, "'" + displayFunction(f) + "' is " + SUBSET);
            }
          }
        }
        default -> {
          return fail(e, SUBSET);
        }
      }
    }

    private @Nullable RowExpr compare(CelExpr e, Cond.Op op, CelExpr left, CelExpr right) {
      boolean leftIsColumn = isColumn(left);
      boolean rightIsColumn = isColumn(right);
      if (leftIsColumn && rightIsColumn) {
        return fail(e, "compares two columns; " + SUBSET);
      }
      if (!leftIsColumn && !rightIsColumn) {
        CelExpr bad = mentionsRow(left) ? left : right;
        return fail(bad, bad.getKind() == CelExpr.ExprKind.Kind.CALL
            ? "'" + displayFunction(bad.call().function()) + "' is " + SUBSET : SUBSET);
      }
      CelExpr colExpr = leftIsColumn ? left : right;
      CelExpr valueExpr = leftIsColumn ? right : left;
      Cond.Op effective = leftIsColumn ? op : op.flip();
      Column c = column(colExpr);
      if (c == null) {
        return null;
      }
      if (valueExpr.getKind() == CelExpr.ExprKind.Kind.CONSTANT
          && valueExpr.constant().getKind() == CelConstant.Kind.NULL_VALUE) {
        if (effective != Cond.Op.EQ && effective != Cond.Op.NE) {
          return fail(valueExpr, "null can only be compared with == or !=");
        }
        return new RowExpr.IsNull(c, effective == Cond.Op.NE);
      }
      Operand v = value(valueExpr, c, false);
      return v == null ? null : new RowExpr.Compare(effective, c, v);
    }

    private @Nullable RowExpr in(CelExpr e, CelExpr element, CelExpr container) {
      if (!isColumn(element)) {
        return fail(mentionsRow(element) ? element : container,
            "'in' must test a column (row.<column> in [..] or in a token list); " + SUBSET);
      }
      Column c = column(element);
      if (c == null) {
        return null;
      }
      if (container.getKind() != CelExpr.ExprKind.Kind.LIST && !isAttribute(container)) {
        return fail(container, "'in' needs a list literal or a token/app/request attribute; " + SUBSET);
      }
      Operand list = value(container, c, true);
      return list == null ? null : new RowExpr.InList(c, list);
    }

    /** The value side of a comparison: a literal of the column's type or an attribute (converted when bound). */
    private @Nullable Operand value(CelExpr e, Column c, boolean list) {
      if (mentionsRow(e)) {
        return fail(e, SUBSET);
      }
      if (isAttribute(e)) {
        Operand o = operand(e);
        return o != null ? o : fail(e, "not an attribute the push-down subset can read (request.time is CEL-only)");
      }
      if (list != (e.getKind() == CelExpr.ExprKind.Kind.LIST)) {
        return fail(e, list ? "'in' needs a list" : "a list can only be used with 'in'");
      }
      if (e.getKind() == CelExpr.ExprKind.Kind.LIST) {
        List<Object> items = new ArrayList<>();
        for (CelExpr item : e.list().elements()) {
          Object v = literalFor(item, c);
          if (v == Values.MISSING) {
            return null;
          }
          items.add(v);
        }
        return new Operand.Literal(java.util.Collections.unmodifiableList(items));
      }
      Object v = literalFor(e, c);
      return v == Values.MISSING ? null : new Operand.Literal(v);
    }

    /** A literal checked against the column type now, so a typo is a config issue and not an empty result. */
    private @Nullable Object literalFor(CelExpr e, Column c) {
      if (e.getKind() != CelExpr.ExprKind.Kind.CONSTANT) {
        fail(e, "expected a literal or a token/app/request attribute; " + SUBSET);
        return Values.MISSING;
      }
      Object v = literal(e.constant());
      if (v == null || v == Values.MISSING) {
        fail(e, "expected a " + c.type().yamlName() + " literal for row." + c.name());
        return Values.MISSING;
      }
      if (SqlValues.sqlValue(v, c.type()) == null) {
        fail(e, "row." + c.name() + " is " + c.type().yamlName() + "; " + describeLiteral(v) + " is not");
        return Values.MISSING;
      }
      return v;
    }

    private @Nullable Column column(CelExpr e) {
      List<String> p = path(e);
      String name = p == null ? "?" : p.get(1);
      Column c = dataset.column(name);
      if (c == null) {
        fail(e, "unknown column '" + name + "' of dataset " + dataset.name() + " (declared: "
            + String.join(", ", dataset.columns().stream().map(Column::name).toList()) + ")");
        return null;
      }
      if (c.type() == ColumnType.JSONB) {
        fail(e, "row." + name + " is jsonb; jsonb columns cannot be filtered");
        return null;
      }
      return c;
    }

    private boolean isColumn(CelExpr e) {
      List<String> p = path(e);
      return p != null && p.size() == 2 && p.get(0).equals("row");
    }

    private static boolean isAttribute(CelExpr e) {
      List<String> p = path(e);
      return p != null && p.size() >= 2 && List.of("token", "app", "request").contains(p.get(0));
    }

    private static boolean mentionsRow(CelExpr e) {
      return switch (e.getKind()) {
        case IDENT -> e.ident().name().equals("row");
        case SELECT -> mentionsRow(e.select().operand());
        case CALL -> e.call().args().stream().anyMatch(RowCompiler::mentionsRow)
            || e.call().target().map(RowCompiler::mentionsRow).orElse(false);
        case LIST -> e.list().elements().stream().anyMatch(RowCompiler::mentionsRow);
        case MAP -> e.map().entries().stream().anyMatch(x -> mentionsRow(x.key()) || mentionsRow(x.value()));
        case COMPREHENSION -> mentionsRow(e.comprehension().iterRange())
            || mentionsRow(e.comprehension().loopStep()) || mentionsRow(e.comprehension().result());
        default -> false;
      };
    }

    private String text(CelExpr e) {
      List<String> p = path(e);
      return p != null ? String.join(".", p) : "#" + e.id();
    }

    private <T> @Nullable T fail(CelExpr e, String message) {
      site.issue(ast, e, message);
      return null;
    }
  }

  private static String displayFunction(String f) {
    return switch (f) {
      case "_+_" -> "+";
      case "_-_" -> "-";
      case "_*_" -> "*";
      case "_/_" -> "/";
      case "_%_" -> "%";
      case "_?_:_" -> "?:";
      case "_[_]" -> "[]";
      case "-_" -> "unary -";
      default -> f;
    };
  }

  private static String describeLiteral(Object v) {
    return v instanceof String s ? "'" + s + "' (a string)"
        : v instanceof Long ? v + " (an int)"
        : v instanceof Double ? v + " (a double)"
        : v instanceof Boolean ? v + " (a bool)"
        : String.valueOf(v);
  }

}

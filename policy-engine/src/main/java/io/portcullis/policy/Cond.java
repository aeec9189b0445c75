package io.portcullis.policy;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.List;

/**
 * A compiled condition over token, app and request, evaluated to {@link Values#TRUE}, {@link Values#FALSE} or
 * {@link Values#ERROR}. The Java nodes cover the common subset; {@link CelFallback} runs a CEL program for the rest.
 * Error is a value, not an exception, so {@code &&} and {@code ||} absorb it exactly as CEL does (cel-java
 * {@code EvalAnd}); callers decide what an error means (grant condition: not satisfied; deny block: deny).
 */
abstract class Cond {
  abstract int eval(EvalContext c);

  /** Whether this node (and all below it) are plain Java, i.e. no CEL program runs. */
  boolean isJava() {
    return true;
  }

  static final class Const extends Cond {
    static final Const TRUE = new Const(true);
    static final Const FALSE = new Const(false);
    private final int value;

    private Const(boolean value) {
      this.value = value ? Values.TRUE : Values.FALSE;
    }

    @Override
    int eval(EvalContext c) {
      return value;
    }
  }

  static final class And extends Cond {
    private final Cond[] terms;

    And(List<Cond> terms) {
      this.terms = terms.toArray(new Cond[0]);
    }

    @Override
    int eval(EvalContext c) {
      boolean error = false;
      for (Cond t : terms) {
        int r = t.eval(c);
        if (r == Values.FALSE) {
          return Values.FALSE;
        }
        error |= r == Values.ERROR;
      }
      return error ? Values.ERROR : Values.TRUE;
    }

    @Override
    boolean isJava() {
      for (Cond t : terms) {
        if (!t.isJava()) {
          return false;
        }
      }
      return true;
    }
  }

  static final class Or extends Cond {
    private final Cond[] terms;

    Or(List<Cond> terms) {
      this.terms = terms.toArray(new Cond[0]);
    }

    @Override
    int eval(EvalContext c) {
      boolean error = false;
      for (Cond t : terms) {
        int r = t.eval(c);
        if (r == Values.TRUE) {
          return Values.TRUE;
        }
        error |= r == Values.ERROR;
      }
      return error ? Values.ERROR : Values.FALSE;
    }

    @Override
    boolean isJava() {
      for (Cond t : terms) {
        if (!t.isJava()) {
          return false;
        }
      }
      return true;
    }
  }

  static final class Not extends Cond {
    private final Cond term;

    Not(Cond term) {
      this.term = term;
    }

    @Override
    int eval(EvalContext c) {
      int r = term.eval(c);
      return r == Values.ERROR ? r : 1 - r;
    }

    @Override
    boolean isJava() {
      return term.isJava();
    }
  }

  enum Op {
    EQ, NE, LT, LE, GT, GE;

    Op flip() {
      return switch (this) {
        case LT -> GT;
        case LE -> GE;
        case GT -> LT;
        case GE -> LE;
        default -> this;
      };
    }

    String sql() {
      return switch (this) {
        case EQ -> "=";
        case NE -> "<>";
        case LT -> "<";
        case LE -> "<=";
        case GT -> ">";
        case GE -> ">=";
      };
    }

    boolean ordering() {
      return this != EQ && this != NE;
    }

    static Op of(String celFunction) {
      return switch (celFunction) {
        case "_==_" -> EQ;
        case "_!=_" -> NE;
        case "_<_" -> LT;
        case "_<=_" -> LE;
        case "_>_" -> GT;
        case "_>=_" -> GE;
        default -> throw new IllegalArgumentException("celFunction: " + celFunction + " (expected: a comparison)");
      };
    }
  }

  static final class Compare extends Cond {
    private final Op op;
    private final Operand left;
    private final Operand right;

    Compare(Op op, Operand left, Operand right) {
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    int eval(EvalContext c) {
      Object l = left.get(c);
      Object r = right.get(c);
      if (op == Op.EQ || op == Op.NE) {
        int eq = Values.equal(l, r);
        return eq == Values.ERROR ? eq : op == Op.EQ ? eq : 1 - eq;
      }
      if (l == Values.MISSING || r == Values.MISSING) {
        return Values.ERROR;
      }
      int cmp = Values.compare(l, r);
      if (cmp == Integer.MIN_VALUE) {
        return Values.ERROR;
      }
      boolean b = switch (op) {
        case LT -> cmp < 0;
        case LE -> cmp <= 0;
        case GT -> cmp > 0;
        default -> cmp >= 0;
      };
      return b ? Values.TRUE : Values.FALSE;
    }
  }

  static final class In extends Cond {
    private final Operand element;
    private final Operand container;

    In(Operand element, Operand container) {
      this.element = element;
      this.container = container;
    }

    @Override
    int eval(EvalContext c) {
      return Values.in(element.get(c), container.get(c));
    }
  }

  /** A bare boolean attribute, e.g. {@code token.attrs.manager}. */
  static final class Truthy extends Cond {
    private final Operand operand;

    Truthy(Operand operand) {
      this.operand = operand;
    }

    @Override
    int eval(EvalContext c) {
      Object v = operand.get(c);
      return v instanceof Boolean b ? (b ? Values.TRUE : Values.FALSE) : Values.ERROR;
    }
  }

  /** What the Java subset cannot express; ≈ 3.5 µs a call (STACK.md), so only used when needed. */
  static final class CelFallback extends Cond {
    private final CelRuntime.Program program;

    CelFallback(CelRuntime.Program program) {
      this.program = program;
    }

    @Override
    int eval(EvalContext c) {
      try {
        Object r = program.eval(c.activation());
        return r instanceof Boolean b ? (b ? Values.TRUE : Values.FALSE) : Values.ERROR;
      } catch (CelEvaluationException e) {
        return Values.ERROR;
      }
    }

    @Override
    boolean isJava() {
      return false;
    }
  }
}

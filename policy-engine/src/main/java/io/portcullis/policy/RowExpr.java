package io.portcullis.policy;

import io.portcullis.policy.model.Column;
import java.util.List;

/**
 * A row filter in the push-down subset (DESIGN.md §3), before parameters are numbered. One grant's filter, the
 * owner scoping and the blocks' filters are ANDed as RowExprs, then lowered once per grant into a
 * {@link RowFilterPlan} (SQL text + in-memory twin).
 */
sealed interface RowExpr {
  record And(List<RowExpr> terms) implements RowExpr {}

  record Or(List<RowExpr> terms) implements RowExpr {}

  record Not(RowExpr term) implements RowExpr {}

  /** {@code row.col <op> value}: value is a literal or a token/app/request attribute, converted to the column type. */
  record Compare(Cond.Op op, Column column, Operand value) implements RowExpr {}

  /** {@code row.col == null} / {@code != null}. */
  record IsNull(Column column, boolean negated) implements RowExpr {}

  /** {@code row.col in [..]} or {@code row.col in token.attrs.list}: SQL {@code = ANY($n)}. */
  record InList(Column column, Operand list) implements RowExpr {}

  /** A bare boolean column. */
  record BoolColumn(Column column) implements RowExpr {}

  /**
   * A sub-term that reads no row, evaluated when the filter is bound and passed as a boolean parameter.
   * {@code errorAsTrue}: what a CEL error means (true for the gate of a conditional block filter: fail closed).
   */
  record TokenTerm(Cond cond, boolean errorAsTrue, String text) implements RowExpr {}

  record Const(boolean value) implements RowExpr {}

  static RowExpr and(List<RowExpr> terms) {
    return terms.size() == 1 ? terms.get(0) : new And(List.copyOf(terms));
  }
}

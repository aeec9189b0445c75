package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.PlannedColumn;
import io.portcullis.policy.model.ColumnType;
import io.portcullis.policy.model.Dataset;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.util.MultiValueMap;

/**
 * Parses the PostgREST-style query string of DESIGN.md §6 against the dataset's declared columns and the policy's
 * column plan. Identifiers are only ever taken from the declared columns; a column the policy hides answers exactly
 * like a column that does not exist, and masked columns cannot be filtered or ordered on (that would reveal them).
 */
final class DataQueryParser {

  static final Set<String> RESERVED = Set.of("select", "order", "limit", "cursor");
  private static final int MAX_IN_VALUES = 1000;
  private static final int MAX_PARAM_LENGTH = 4096;

  private DataQueryParser() {
  }

  static DataQuery parse(MultiValueMap<String, String> params, Dataset dataset, ColumnPlan plan, String keyColumn) {
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      for (String v : e.getValue()) {
        if (v != null && v.length() > MAX_PARAM_LENGTH) {
          throw invalid("query parameter '" + abbreviate(e.getKey()) + "' is too long");
        }
      }
    }
    List<PlannedColumn> select = select(params.getFirst("select"), plan);
    List<DataQuery.Filter> filters = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      if (RESERVED.contains(e.getKey())) {
        if (e.getValue().size() > 1) {
          throw invalid("'" + e.getKey() + "' given more than once");
        }
        continue;
      }
      PlannedColumn column = filterable(e.getKey(), plan);
      for (String expression : e.getValue()) {
        filters.add(filter(column, expression == null ? "" : expression));
      }
    }
    List<DataQuery.Order> order = order(params.getFirst("order"), plan, keyColumn, dataset);
    int limit = limit(params.getFirst("limit"), dataset);
    String cursor = params.getFirst("cursor");
    List<Object> after = cursor == null ? null : Cursors.decode(cursor, order);
    return new DataQuery(select, List.copyOf(filters), order, limit, after);
  }

  private static List<PlannedColumn> select(@Nullable String select, ColumnPlan plan) {
    if (select == null || select.isBlank() || select.equals("*")) {
      return plan.columns();
    }
    List<PlannedColumn> columns = new ArrayList<>();
    for (String raw : select.split(",", -1)) {
      String name = raw.trim();
      PlannedColumn column = plan.column(name);
      if (column == null) {
        throw unknownColumn(name);
      }
      if (!columns.contains(column)) {
        columns.add(column);
      }
    }
    return List.copyOf(columns);
  }

  private static PlannedColumn filterable(String name, ColumnPlan plan) {
    PlannedColumn column = plan.column(name);
    if (column == null) {
      throw unknownColumn(name);
    }
    if (column.mask() != null) {
      throw invalid("column '" + name + "' is masked and cannot be filtered or ordered on");
    }
    return column;
  }

  private static DataQuery.Filter filter(PlannedColumn column, String expression) {
    boolean negated = false;
    String rest = expression;
    if (rest.startsWith("not.")) {
      negated = true;
      rest = rest.substring(4);
    }
    int dot = rest.indexOf('.');
    if (dot <= 0) {
      throw invalid("filter on '" + column.name() + "' must look like op.value (e.g. eq.42)");
    }
    FilterOperator op = FilterOperator.parse(rest.substring(0, dot));
    if (op == null) {
      throw invalid("unknown operator '" + abbreviate(rest.substring(0, dot)) + "' on column '" + column.name()
          + "' (expected one of eq, neq, gt, gte, lt, lte, like, ilike, in, is)");
    }
    String value = rest.substring(dot + 1);
    ColumnType type = column.type();
    return switch (op) {
      case IS -> new DataQuery.Filter(column.name(), op, negated, isValue(value, column));
      case IN -> new DataQuery.Filter(column.name(), op, negated, inValues(value, column));
      case LIKE, ILIKE -> {
        if (type != ColumnType.TEXT) {
          throw invalid("'" + op.name().toLowerCase(Locale.ROOT) + "' needs a text column; '" + column.name() + "' is not");
        }
        ColumnValues.text(value, column.name());
        if (endsInEscape(value)) {
          // PostgreSQL refuses a pattern ending in its escape character with an error; it is the client's mistake.
          throw invalid("'" + op.name().toLowerCase(Locale.ROOT) + "' pattern on column '" + column.name()
              + "' must not end with an unescaped backslash");
        }
        // PostgREST lets clients write * for % so patterns survive URLs unescaped.
        yield new DataQuery.Filter(column.name(), op, negated, value.replace('*', '%'));
      }
      default -> new DataQuery.Filter(column.name(), op, negated, ColumnValues.parse(type, value, column.name()));
    };
  }

  private static boolean endsInEscape(String pattern) {
    int backslashes = 0;
    for (int i = pattern.length() - 1; i >= 0 && pattern.charAt(i) == '\\'; i--) {
      backslashes++;
    }
    return backslashes % 2 == 1;
  }

  private static @Nullable Object isValue(String value, PlannedColumn column) {
    String v = value.toLowerCase(Locale.ROOT);
    if (v.equals("null")) {
      return null;
    }
    if (column.type() != ColumnType.BOOLEAN) {
      // PostgreSQL answers IS TRUE on a non-boolean column with an error, not with rows.
      throw invalid("'is' takes only null on column '" + column.name() + "' (true and false need a boolean column)");
    }
    return switch (v) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default -> throw invalid("'is' takes null, true or false on column '" + column.name() + "'");
    };
  }

  private static Object inValues(String value, PlannedColumn column) {
    if (!value.startsWith("(") || !value.endsWith(")")) {
      throw invalid("'in' takes a list like in.(a,b,c) on column '" + column.name() + "'");
    }
    String inner = value.substring(1, value.length() - 1);
    String[] parts = inner.isEmpty() ? new String[0] : inner.split(",", -1);
    if (parts.length == 0 || parts.length > MAX_IN_VALUES) {
      throw invalid("'in' on column '" + column.name() + "' takes 1 to " + MAX_IN_VALUES + " values");
    }
    Object array = Array.newInstance(ColumnValues.arrayElement(column.type()), parts.length);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i].trim();
      if (part.length() >= 2 && part.startsWith("\"") && part.endsWith("\"")) {
        part = part.substring(1, part.length() - 1);
      }
      Array.set(array, i, ColumnValues.parse(column.type(), part, column.name()));
    }
    return array;
  }

  private static List<DataQuery.Order> order(@Nullable String order, ColumnPlan plan, String keyColumn, Dataset dataset) {
    List<DataQuery.Order> terms = new ArrayList<>();
    boolean hasKey = false;
    if (order != null && !order.isBlank()) {
      for (String raw : order.split(",", -1)) {
        String[] parts = raw.trim().split("\\.", -1);
        if (parts.length > 2) {
          throw invalid("order term '" + abbreviate(raw) + "' must be column, column.asc or column.desc");
        }
        PlannedColumn column = filterable(parts[0], plan);
        boolean descending = false;
        if (parts.length == 2) {
          descending = switch (parts[1].toLowerCase(Locale.ROOT)) {
            case "asc" -> false;
            case "desc" -> true;
            default -> throw invalid("order direction '" + abbreviate(parts[1]) + "' must be asc or desc");
          };
        }
        if (column.type() == ColumnType.JSONB) {
          throw invalid("column '" + column.name() + "' (json) cannot be ordered on");
        }
        if (terms.stream().noneMatch(t -> t.column().equals(column.name()))) {
          terms.add(new DataQuery.Order(column.name(), column.type(), descending));
        }
        hasKey |= column.name().equals(keyColumn);
      }
    }
    if (!hasKey) {
      // The key breaks ties so keyset pages neither skip nor repeat rows.
      ColumnType keyType = dataset.columns().stream().filter(c -> c.name().equals(keyColumn)).findFirst()
          .orElseThrow(() -> new IllegalStateException("dataset " + dataset.name() + " has no key column " + keyColumn))
          .type();
      terms.add(new DataQuery.Order(keyColumn, keyType, false));
    }
    return List.copyOf(terms);
  }

  private static int limit(@Nullable String limit, Dataset dataset) {
    if (limit == null) {
      return dataset.defaultLimit();
    }
    try {
      int n = Integer.parseInt(limit);
      if (n < 1 || n > dataset.maxLimit()) {
        throw invalid("limit %d is out of range (expected: 1..%d)".formatted(n, dataset.maxLimit()));
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid("limit '" + abbreviate(limit) + "' is not a number");
    }
  }

  static ProblemException unknownColumn(String name) {
    return invalid("unknown column '" + abbreviate(name) + "'");
  }

  static ProblemException invalid(String detail) {
    return new ProblemException(ProblemCode.INVALID_QUERY, detail);
  }

  static String abbreviate(String s) {
    String clean = s.codePoints().filter(cp -> !Character.isISOControl(cp))
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    return clean.length() > 64 ? clean.substring(0, 64) + "…" : clean;
  }

  static List<String> names(List<PlannedColumn> columns) {
    return Arrays.asList(columns.stream().map(PlannedColumn::name).toArray(String[]::new));
  }
}

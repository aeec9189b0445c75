package io.portcullis.gateway.connector.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.ColumnType;
import java.math.BigDecimal;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Turns one JSON body value into the bind value of its column's type, strictly by JSON type (a number is not a text
 * column's value, a string is not an integer's), reusing {@link ColumnValues} for the textual types so a value means
 * the same in a filter and in a body. A value PostgreSQL would refuse with an error is refused here instead.
 */
final class BodyValues {

  private BodyValues() {
  }

  /** A JSONB value, bound as text and cast in the statement. */
  record JsonText(String text) {
  }

  /** Thrown with the reason the value does not fit; the caller adds the pointer. */
  static final class Unfit extends Exception {
    private static final long serialVersionUID = 1L;

    Unfit(String message) {
      super(message, null, false, false);
    }
  }

  static @Nullable Object convert(Column column, JsonNode node) throws Unfit {
    if (node.isNull()) {
      if (!column.nullable()) {
        throw new Unfit("must not be null");
      }
      return null;
    }
    ColumnType type = column.type();
    switch (type) {
      case TEXT, DATE, TIMESTAMPTZ, UUID -> {
        if (!node.isTextual()) {
          throw new Unfit("expected a string (" + type.yamlName() + ")");
        }
        return textual(column, node.textValue());
      }
      case INTEGER -> {
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          throw new Unfit("expected an integer from -2147483648 to 2147483647");
        }
        return node.intValue();
      }
      case BIGINT -> {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw new Unfit("expected an integer that fits 64 bits");
        }
        return node.longValue();
      }
      case NUMERIC -> {
        if (!node.isNumber()) {
          throw new Unfit("expected a number");
        }
        try {
          return ColumnValues.numeric(new BigDecimal(node.decimalValue().toString()));
        } catch (NumberFormatException e) {
          throw new Unfit("number out of range");
        }
      }
      case BOOLEAN -> {
        if (!node.isBoolean()) {
          throw new Unfit("expected true or false");
        }
        return node.booleanValue();
      }
      case JSONB -> {
        if (containsNul(node)) {
          throw new Unfit("JSON text must not contain U+0000");
        }
        return new JsonText(node.toString());
      }
      default -> throw new IllegalStateException("column type " + type);
    }
  }

  private static Object textual(Column column, String text) throws Unfit {
    try {
      return ColumnValues.parse(column.type(), text, column.name());
    } catch (ProblemException e) {
      throw new Unfit(column.type() == ColumnType.TEXT ? "text must not contain U+0000"
          : "expected a valid " + column.type().yamlName());
    }
  }

  /** PostgreSQL's jsonb cannot hold U+0000 in strings or keys and answers with an error. */
  private static boolean containsNul(JsonNode node) {
    if (node.isTextual()) {
      return node.textValue().indexOf('\0') >= 0;
    }
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        if (e.getKey().indexOf('\0') >= 0 || containsNul(e.getValue())) {
          return true;
        }
      }
      return false;
    }
    if (node.isArray()) {
      for (JsonNode element : node) {
        if (containsNul(element)) {
          return true;
        }
      }
    }
    return false;
  }
}

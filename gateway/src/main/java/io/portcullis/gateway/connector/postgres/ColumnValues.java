package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.model.ColumnType;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.UUID;

/**
 * Turns client text into a value of the column's type before it reaches SQL: every value is bound typed, never
 * spliced, and a malformed one is the client's {@code invalid_query}, not a PostgreSQL error.
 */
final class ColumnValues {

  private ColumnValues() {
  }

  static Object parse(ColumnType type, String text, String column) {
    try {
      return switch (type) {
        case TEXT -> text(text, column);
        case INTEGER -> Integer.valueOf(text);
        case BIGINT -> Long.valueOf(text);
        case NUMERIC -> numeric(new BigDecimal(text));
        case BOOLEAN -> parseBoolean(text);
        case DATE -> date(LocalDate.parse(text));
        case TIMESTAMPTZ -> timestamp(OffsetDateTime.parse(text));
        case UUID -> UUID.fromString(text);
        case JSONB -> throw new ProblemException(ProblemCode.INVALID_QUERY,
            "column '" + column + "' (json) cannot be compared; only 'is.null' is supported");
      };
    } catch (NumberFormatException | DateTimeParseException e) {
      throw invalid(type, text, column);
    } catch (IllegalArgumentException e) {
      throw invalid(type, text, column);
    }
  }

  /** The element class of a typed array for {@code = ANY($n)}. */
  static Class<?> arrayElement(ColumnType type) {
    return switch (type) {
      case TEXT -> String.class;
      case INTEGER -> Integer.class;
      case BIGINT -> Long.class;
      case NUMERIC -> BigDecimal.class;
      case BOOLEAN -> Boolean.class;
      case DATE -> LocalDate.class;
      case TIMESTAMPTZ -> OffsetDateTime.class;
      case UUID -> UUID.class;
      case JSONB -> String.class;
    };
  }

  /**
   * PostgreSQL text cannot hold U+0000: such a value would fail in the server (an error the client must not see), so
   * it is refused here as the client's mistake.
   */
  static String text(String text, String column) {
    if (text.indexOf('\0') >= 0) {
      throw new ProblemException(ProblemCode.INVALID_QUERY,
          "value for column '" + column + "' contains U+0000, which text cannot hold");
    }
    return text;
  }

  /** PostgreSQL numeric holds up to 131072 digits before the point and 16383 after; beyond that it errors. */
  static BigDecimal numeric(BigDecimal value) {
    if (value.scale() > 16383 || value.precision() - value.scale() > 131072) {
      throw new NumberFormatException("numeric out of PostgreSQL's range");
    }
    return value;
  }

  /**
   * Years PostgreSQL and the driver's text encoding agree on. Java parses {@code +12345-01-01} and year 0, which the
   * server rejects; refusing them here keeps that a 400 rather than a datastore error.
   */
  private static LocalDate date(LocalDate value) {
    checkYear(value.getYear());
    return value;
  }

  private static OffsetDateTime timestamp(OffsetDateTime value) {
    checkYear(value.getYear());
    return value;
  }

  private static void checkYear(int year) {
    if (year < 1 || year > 9999) {
      throw new IllegalArgumentException("year " + year + " (expected: 1..9999)");
    }
  }

  private static Boolean parseBoolean(String text) {
    if (text.equals("true")) {
      return Boolean.TRUE;
    }
    if (text.equals("false")) {
      return Boolean.FALSE;
    }
    throw new IllegalArgumentException(text);
  }

  private static ProblemException invalid(ColumnType type, String text, String column) {
    String shown = text.length() > 40 ? text.substring(0, 40) + "…" : text;
    return new ProblemException(ProblemCode.INVALID_QUERY,
        "value '%s' for column '%s' is not a valid %s".formatted(shown, column, type.name().toLowerCase(java.util.Locale.ROOT)));
  }
}

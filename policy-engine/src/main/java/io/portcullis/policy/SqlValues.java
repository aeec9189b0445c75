package io.portcullis.policy;

import io.portcullis.policy.model.ColumnType;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.Locale;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Conversions between token/literal values, SQL bind parameters and row values, per column type. The SQL side and
 * the in-memory side use the same conversions, which is what keeps the two twins equal: a value that does not fit
 * the column becomes NULL on both sides (the comparison is unknown, the row is excluded).
 */
final class SqlValues {
  private SqlValues() {}

  /** The bind parameter for a scalar: String, Long, Double or Boolean; null when the value does not fit. */
  static @Nullable Object sqlValue(@Nullable Object v, ColumnType type) {
    if (v == null || v == Values.MISSING) {
      return null;
    }
    switch (type) {
      case TEXT -> {
        return v instanceof String ? v : null;
      }
      case INTEGER, BIGINT -> {
        if (v instanceof Number n) {
          if (Values.isIntegral(n)) {
            return n.longValue();
          }
          BigDecimal d = n instanceof BigDecimal b ? b : finite(n.doubleValue());
          try {
            return d == null ? null : d.longValueExact();
          } catch (ArithmeticException e) {
            return null;
          }
        }
        if (v instanceof String s) {
          try {
            return Long.parseLong(s.trim());
          } catch (NumberFormatException e) {
            return null;
          }
        }
        return null;
      }
      case NUMERIC -> {
        double d;
        if (v instanceof Number n) {
          d = n.doubleValue();
        } else if (v instanceof String s) {
          try {
            d = Double.parseDouble(s.trim());
          } catch (NumberFormatException e) {
            return null;
          }
        } else {
          return null;
        }
        return Double.isFinite(d) ? d : null;
      }
      case BOOLEAN -> {
        if (v instanceof Boolean) {
          return v;
        }
        if (v instanceof String s && (s.equals("true") || s.equals("false"))) {
          return Boolean.valueOf(s);
        }
        return null;
      }
      case DATE -> {
        LocalDate d = date(v);
        return d == null ? null : d.toString();
      }
      case TIMESTAMPTZ -> {
        Instant i = instant(v);
        return i == null ? null : i.toString();
      }
      case UUID -> {
        String u = uuid(v);
        return u;
      }
      default -> {
        return null;
      }
    }
  }

  /** The in-memory counterpart of a bind parameter (what a row value is compared with). */
  static @Nullable Object typed(@Nullable Object sql, ColumnType type) {
    if (sql == null) {
      return null;
    }
    return switch (type) {
      case NUMERIC -> BigDecimal.valueOf((Double) sql);
      case DATE -> LocalDate.parse((String) sql);
      case TIMESTAMPTZ -> Instant.parse((String) sql);
      default -> sql;
    };
  }

  /** A row value normalised like {@link #typed}: Numbers stay Numbers, dates become LocalDate/Instant. */
  static @Nullable Object rowValue(@Nullable Object v, ColumnType type) {
    if (v == null) {
      return null;
    }
    return switch (type) {
      case TEXT -> v instanceof String ? v : v.toString();
      case INTEGER, BIGINT, NUMERIC -> v instanceof Number ? v : sqlValue(v, type);
      case BOOLEAN -> v instanceof Boolean ? v : sqlValue(v, type);
      case DATE -> date(v);
      case TIMESTAMPTZ -> instant(v);
      case UUID -> uuid(v);
      default -> null;
    };
  }

  static String sqlArrayType(ColumnType type) {
    return switch (type) {
      case INTEGER, BIGINT -> "bigint";
      default -> type.sqlType();
    };
  }

  /** Integer columns bind as bigint so a token value beyond int range compares instead of failing the cast. */
  static String sqlCast(ColumnType type) {
    return sqlArrayType(type);
  }

  /** The array parameter of {@code = ANY($n)}: String[], Long[], Double[] or Boolean[]; null if not a list. */
  static Object @Nullable [] sqlArray(@Nullable Object v, ColumnType type) {
    if (!(v instanceof Collection<?> c)) {
      return null;
    }
    Object[] out = switch (type) {
      case INTEGER, BIGINT -> new Long[c.size()];
      case NUMERIC -> new Double[c.size()];
      case BOOLEAN -> new Boolean[c.size()];
      default -> new String[c.size()];
    };
    int i = 0;
    for (Object x : c) {
      out[i++] = sqlValue(x, type);
    }
    return out;
  }

  private static @Nullable BigDecimal finite(double d) {
    return Double.isFinite(d) ? BigDecimal.valueOf(d) : null;
  }

  private static @Nullable LocalDate date(Object v) {
    if (v instanceof LocalDate d) {
      return d;
    }
    if (v instanceof String s) {
      try {
        return LocalDate.parse(s);
      } catch (DateTimeException e) {
        return null;
      }
    }
    return null;
  }

  private static @Nullable Instant instant(Object v) {
    if (v instanceof Instant i) {
      return i;
    }
    if (v instanceof OffsetDateTime o) {
      return o.toInstant();
    }
    if (v instanceof ZonedDateTime z) {
      return z.toInstant();
    }
    if (v instanceof LocalDateTime l) {
      return l.toInstant(ZoneOffset.UTC);
    }
    if (v instanceof String s) {
      try {
        return OffsetDateTime.parse(s).toInstant();
      } catch (DateTimeException e) {
        return null;
      }
    }
    return null;
  }

  private static @Nullable String uuid(Object v) {
    if (v instanceof UUID u) {
      return u.toString();
    }
    if (v instanceof String s) {
      try {
        // canonical lower-case text: its string order is PostgreSQL's uuid order (unsigned bytes)
        return UUID.fromString(s).toString().toLowerCase(Locale.ROOT);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return null;
  }
}

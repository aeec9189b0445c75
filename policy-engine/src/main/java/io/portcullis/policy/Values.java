package io.portcullis.policy;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** CEL-like value semantics for the Java-compiled predicates (equality across numeric types, ordering). */
final class Values {
  /** An attribute that is not there (CEL: "no such key"): comparisons with it are errors, not false. */
  static final Object MISSING = new Object() {
    @Override
    public String toString() {
      return "<missing>";
    }
  };

  /** Tri-state results: CEL's error value is kept so && and || can absorb it as CEL does. */
  static final int FALSE = 0;
  static final int TRUE = 1;
  static final int ERROR = -1;

  private Values() {}

  static int equal(@Nullable Object a, @Nullable Object b) {
    if (a == MISSING || b == MISSING) {
      return ERROR;
    }
    if (a == null || b == null) {
      return a == b ? TRUE : FALSE;
    }
    if (a instanceof Number x && b instanceof Number y) {
      return compareNumbers(x, y) == 0 ? TRUE : FALSE;
    }
    if (a instanceof Collection<?> x && b instanceof Collection<?> y) {
      if (x.size() != y.size()) {
        return FALSE;
      }
      var i = y.iterator();
      for (Object e : x) {
        int r = equal(e, i.next());
        if (r != TRUE) {
          return r;
        }
      }
      return TRUE;
    }
    return a.equals(b) ? TRUE : FALSE;
  }

  /** Ordering; {@code Integer.MIN_VALUE} when the two values have no order (CEL: no matching overload). */
  static int compare(@Nullable Object a, @Nullable Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return compareNumbers(x, y);
    }
    if (a instanceof String x && b instanceof String y) {
      return compareCodePoints(x, y);
    }
    if (a instanceof Boolean x && b instanceof Boolean y) {
      return Boolean.compare(x, y);
    }
    return Integer.MIN_VALUE;
  }

  static int compareNumbers(Number x, Number y) {
    if (isIntegral(x) && isIntegral(y)) {
      return Long.compare(x.longValue(), y.longValue());
    }
    return toBigDecimal(x).compareTo(toBigDecimal(y));
  }

  static boolean isIntegral(Number n) {
    return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
  }

  static BigDecimal toBigDecimal(Number n) {
    if (n instanceof BigDecimal b) {
      return b;
    }
    if (isIntegral(n)) {
      return BigDecimal.valueOf(n.longValue());
    }
    double d = n.doubleValue();
    // NaN and infinities have no BigDecimal; they sort last, like PostgreSQL's float8 ordering
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return d < 0 ? BigDecimal.valueOf(-Double.MAX_VALUE) : BigDecimal.valueOf(Double.MAX_VALUE);
    }
    return BigDecimal.valueOf(d);
  }

  /** Code-point order: the order of PostgreSQL's {@code COLLATE "C"} on UTF-8 text. */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  static int in(@Nullable Object element, @Nullable Object container) {
    if (element == MISSING || container == MISSING) {
      return ERROR;
    }
    if (container instanceof Collection<?> c) {
      if (element instanceof String && !(c.isEmpty()) && c.contains(element)) {
        return TRUE;
      }
      boolean error = false;
      for (Object x : c) {
        int r = equal(element, x);
        if (r == TRUE) {
          return TRUE;
        }
        error |= r == ERROR;
      }
      return error ? ERROR : FALSE;
    }
    if (container instanceof Map<?, ?> m) {
      return m.containsKey(element) ? TRUE : FALSE;
    }
    return ERROR;
  }
}

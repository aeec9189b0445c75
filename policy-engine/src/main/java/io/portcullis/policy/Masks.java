package io.portcullis.policy;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The masks of DESIGN.md §4 and how they rank when several apply to one column. Most restrictive wins:
 * {@code drop > null > redact > hash > last4 = first4 = email_domain = year_only = round:N = cel:… > keep}; between
 * two different masks of the same rank, the policy block's (applied later) wins over the grant's.
 */
final class Masks {
  static final String REDACTED = "****";

  static final int KEEP = 0;
  static final int PARTIAL = 1;
  static final int HASH = 2;
  static final int REDACT = 3;
  static final int NULL = 4;
  static final int DROP = 5;

  private Masks() {}

  /** The rank of a spec (see the class comment); -1 when the spec is not a mask at all. */
  static int rank(String spec) {
    return switch (spec) {
      case "keep" -> KEEP;
      case "drop" -> DROP;
      case "null" -> NULL;
      case "redact" -> REDACT;
      case "hash" -> HASH;
      case "last4", "first4", "email_domain", "year_only" -> PARTIAL;
      default -> spec.startsWith("round:") || spec.startsWith("cel:") ? PARTIAL : -1;
    };
  }

  /**
   * The mask for {@code spec} ({@code keep}/{@code drop} are plan decisions, not masks: null); records an issue and
   * returns null when the spec is invalid.
   */
  static @Nullable Mask parse(String spec, byte[] hashKey, CelEnv.Site site) {
    switch (spec) {
      case "keep", "drop" -> {
        return null;
      }
      case "redact" -> {
        return REDACT_MASK;
      }
      case "null" -> {
        return NULL_MASK;
      }
      case "hash" -> {
        return new HashMask(hashKey);
      }
      case "last4" -> {
        return LAST4;
      }
      case "first4" -> {
        return FIRST4;
      }
      case "email_domain" -> {
        return EMAIL_DOMAIN;
      }
      case "year_only" -> {
        return YEAR_ONLY;
      }
      default -> {
      }
    }
    if (spec.startsWith("round:")) {
      try {
        int n = Integer.parseInt(spec.substring("round:".length()));
        if (n >= 0 && n <= 12) {
          return new RoundMask(spec, n);
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      site.issue("mask '" + spec + "' (expected: round:N with N in 0..12)");
      return null;
    }
    if (spec.startsWith("cel:")) {
      String expr = spec.substring("cel:".length());
      CelAbstractSyntaxTree ast = CelEnv.compile(CelEnv.MASKS, expr, site);
      if (ast == null) {
        return null;
      }
      CelRuntime.Program program = CelEnv.program(ast, site);
      return program == null ? null : new CelMask(spec, program);
    }
    site.issue("unknown mask '" + spec + "' (expected one of: keep, drop, null, redact, hash, last4, first4,"
        + " email_domain, year_only, round:N, cel:<expr>)");
    return null;
  }

  private record Simple(String spec, java.util.function.UnaryOperator<@Nullable Object> fn) implements Mask {
    @Override
    public @Nullable Object apply(@Nullable Object value) {
      return value == null ? null : fn.apply(value);
    }
  }

  static final Mask REDACT_MASK = new Simple("redact", v -> REDACTED);
  static final Mask NULL_MASK = new Simple("null", v -> null);

  static final Mask LAST4 = new Simple("last4", v -> {
    String s = v.toString();
    // a value of 4 characters or fewer would be shown whole: redact it instead
    return s.length() <= 4 ? REDACTED : REDACTED + s.substring(s.length() - 4);
  });

  static final Mask FIRST4 = new Simple("first4", v -> {
    String s = v.toString();
    return s.length() <= 4 ? REDACTED : s.substring(0, 4) + REDACTED;
  });

  static final Mask EMAIL_DOMAIN = new Simple("email_domain", v -> {
    String s = v.toString();
    int at = s.lastIndexOf('@');
    return at < 0 || at == s.length() - 1 ? REDACTED : REDACTED + s.substring(at);
  });

  /** Dates become their year as an integer; anything that is not a date is nulled rather than leaked. */
  static final Mask YEAR_ONLY = new Simple("year_only", v -> {
    if (v instanceof LocalDate d) {
      return d.getYear();
    }
    if (v instanceof OffsetDateTime o) {
      return o.getYear();
    }
    if (v instanceof ZonedDateTime z) {
      return z.getYear();
    }
    if (v instanceof LocalDateTime l) {
      return l.getYear();
    }
    if (v instanceof Instant i) {
      return i.atOffset(ZoneOffset.UTC).getYear();
    }
    if (v instanceof String s) {
      try {
        return LocalDate.parse(s).getYear();
      } catch (DateTimeException e) {
        try {
          return OffsetDateTime.parse(s).getYear();
        } catch (DateTimeException e2) {
          try {
            return LocalDateTime.parse(s).getYear();
          } catch (DateTimeException e3) {
            return null;
          }
        }
      }
    }
    return null;
  });

  /** Keyed HMAC-SHA-256, hex: stable for one key (joinable pseudonyms), unlinkable across keys. */
  private static final class HashMask implements Mask {
    private final SecretKeySpec key;
    private final ThreadLocal<Mac> mac;

    HashMask(byte[] key) {
      this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
      // Mac is stateful and not thread-safe; one per thread avoids both locking and per-value Mac.getInstance
      this.mac = ThreadLocal.withInitial(this::newMac);
    }

    private Mac newMac() {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(key);
        return m;
      } catch (NoSuchAlgorithmException | InvalidKeyException e) {
        throw new IllegalStateException("HmacSHA256 is required of every JDK", e);
      }
    }

    @Override
    public String spec() {
      return "hash";
    }

    @Override
    public @Nullable Object apply(@Nullable Object value) {
      if (value == null) {
        return null;
      }
      byte[] digest = mac.get().doFinal(canonical(value).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    }

    /** Numbers hash by value, so 42 (Integer), 42L and 42.0 from different sources give the same pseudonym. */
    private static String canonical(Object v) {
      if (v instanceof Number n) {
        BigDecimal d = Values.toBigDecimal(n).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
      }
      return v.toString();
    }
  }

  /** Rounds half-up to N decimals and keeps the numeric type; integers are already round. */
  private record RoundMask(String spec, int places) implements Mask {
    @Override
    public @Nullable Object apply(@Nullable Object value) {
      if (value == null) {
        return null;
      }
      if (value instanceof BigDecimal b) {
        return b.setScale(places, RoundingMode.HALF_UP);
      }
      if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        if (!Double.isFinite(d)) {
          return value;
        }
        double r = BigDecimal.valueOf(d).setScale(places, RoundingMode.HALF_UP).doubleValue();
        return value instanceof Float ? (Object) (float) r : (Object) r;
      }
      if (value instanceof Number) {
        return value;
      }
      // not a number: nothing sensible to round, and passing it through would defeat the mask
      return null;
    }
  }

  /** {@code cel:<expr>} over {@code value}; an evaluation error nulls the value (fail closed). */
  private record CelMask(String spec, CelRuntime.Program program) implements Mask {
    @Override
    public @Nullable Object apply(@Nullable Object value) {
      if (value == null) {
        return null;
      }
      Object in = value instanceof LocalDate || value instanceof OffsetDateTime || value instanceof java.util.UUID
          || value instanceof Instant ? value.toString() : EvalContext.celValue(value);
      try {
        Object out = program.eval(java.util.Map.of("value", in));
        if (out instanceof Long l && value instanceof Integer && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
          return (int) (long) l;
        }
        return out instanceof String || out instanceof Number || out instanceof Boolean ? out : null;
      } catch (CelEvaluationException e) {
        return null;
      }
    }
  }
}

package io.portcullis.policy;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A value read by a compiled predicate: a literal, or an attribute of token, app or request. */
abstract class Operand {
  /** The value, or {@link Values#MISSING}. */
  abstract @Nullable Object get(EvalContext c);

  /** Human-readable, for reasons and test output. */
  abstract String describe();

  static final class Literal extends Operand {
    private final @Nullable Object value;

    Literal(@Nullable Object value) {
      this.value = value;
    }

    @Nullable Object value() {
      return value;
    }

    @Override
    @Nullable Object get(EvalContext c) {
      return value;
    }

    @Override
    String describe() {
      return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }
  }

  /**
   * {@code token.attrs.owner_id}, {@code app.tier}, {@code request.method}, … The first field is resolved when the
   * config is compiled to a switch case; deeper segments walk maps (token attrs may nest).
   */
  static final class Attr extends Operand {
    static final int T_SUB = 0, T_CLIENT_ID = 1, T_SCOPE = 2, T_TIER = 3, T_ATTRS = 4, T_JTI = 5;
    static final int A_ID = 10, A_NAME = 11, A_OWNER = 12, A_TEAM = 13, A_COST_CENTER = 14, A_TIER = 15,
        A_STATUS = 16, A_CONSENTS = 17;
    static final int R_METHOD = 20, R_PATH = 21, R_IP = 22, R_DATASET = 23, R_ACTION = 24;

    static final Map<String, Integer> TOKEN_FIELDS = Map.of("sub", T_SUB, "subject", T_SUB, "client_id",
        T_CLIENT_ID, "scope", T_SCOPE, "tier", T_TIER, "attrs", T_ATTRS, "jti", T_JTI);
    static final Map<String, Integer> APP_FIELDS = Map.of("id", A_ID, "name", A_NAME, "owner", A_OWNER, "team",
        A_TEAM, "cost_center", A_COST_CENTER, "tier", A_TIER, "status", A_STATUS, "consents", A_CONSENTS);
    /** {@code request.time} is known to CEL but not to the Java subset: expressions using it run on CEL. */
    static final Map<String, Integer> REQUEST_FIELDS = Map.of("method", R_METHOD, "path", R_PATH, "ip", R_IP,
        "dataset", R_DATASET, "action", R_ACTION);

    private final int field;
    private final String[] rest;
    private final String text;

    Attr(int field, String[] rest, String text) {
      this.field = field;
      this.rest = rest;
      this.text = text;
    }

    @Override
    @Nullable Object get(EvalContext c) {
      Object v = switch (field) {
        case T_SUB -> c.token.subject();
        case T_CLIENT_ID -> c.token.clientId();
        case T_SCOPE -> c.token.scopes();
        case T_TIER -> (long) c.token.tier();
        case T_ATTRS -> c.token.attrs();
        case T_JTI -> c.token.jti();
        case A_ID -> c.app.id();
        case A_NAME -> c.app.name();
        case A_OWNER -> c.app.owner();
        case A_TEAM -> c.app.team();
        case A_COST_CENTER -> c.app.costCenter();
        case A_TIER -> (long) c.app.tier();
        case A_STATUS -> c.app.status().yamlName();
        case A_CONSENTS -> c.app.consents();
        case R_METHOD -> orMissing(c.request.method());
        case R_PATH -> orMissing(c.request.path());
        case R_IP -> orMissing(c.request.clientIp());
        case R_DATASET -> orMissing(c.request.dataset());
        case R_ACTION -> c.request.action() == null ? Values.MISSING : c.request.action().scopeSuffix();
        default -> Values.MISSING;
      };
      for (String seg : rest) {
        if (v instanceof Map<?, ?> m) {
          Object next = m.get(seg);
          v = next == null ? Values.MISSING : next;
        } else {
          return Values.MISSING;
        }
      }
      return v;
    }

    private static Object orMissing(@Nullable Object v) {
      return v == null ? Values.MISSING : v;
    }

    @Override
    String describe() {
      return text;
    }
  }
}

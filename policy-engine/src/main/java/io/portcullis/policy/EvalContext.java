package io.portcullis.policy;

import io.portcullis.policy.model.App;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What expressions read during one decision. The Java-compiled predicates read the records directly; the CEL
 * activation (maps of CEL-typed values) is built only if a CEL fallback program actually runs.
 */
final class EvalContext {
  final TokenClaims token;
  final App app;
  final DecisionRequest request;
  final Instant now;
  private @Nullable Map<String, Object> activation;

  EvalContext(TokenClaims token, App app, DecisionRequest request, Instant now) {
    this.token = token;
    this.app = app;
    this.request = request;
    this.now = now;
  }

  Map<String, Object> activation() {
    Map<String, Object> a = activation;
    if (a == null) {
      a = new HashMap<>();
      Map<String, Object> t = new HashMap<>();
      t.put("sub", token.subject());
      t.put("subject", token.subject());
      t.put("client_id", token.clientId());
      t.put("scope", List.copyOf(token.scopes()));
      t.put("tier", (long) token.tier());
      t.put("attrs", celValue(token.attrs()));
      t.put("jti", token.jti());
      a.put("token", t);
      Map<String, Object> ap = new HashMap<>();
      ap.put("id", app.id());
      ap.put("name", app.name());
      ap.put("owner", app.owner());
      ap.put("team", app.team());
      ap.put("cost_center", app.costCenter());
      ap.put("tier", (long) app.tier());
      ap.put("status", app.status().yamlName());
      ap.put("consents", List.copyOf(app.consents()));
      a.put("app", ap);
      Map<String, Object> r = new HashMap<>();
      r.put("method", nz(request.method()));
      r.put("path", nz(request.path()));
      r.put("ip", nz(request.clientIp()));
      r.put("dataset", nz(request.dataset()));
      r.put("action", request.action() == null ? "" : request.action().scopeSuffix());
      // cel-java 0.14's runtime takes java.time.Instant as a CEL timestamp (a protobuf Timestamp does not compare)
      r.put("time", now);
      a.put("request", r);
      activation = a;
    }
    return a;
  }

  private static String nz(@Nullable String s) {
    return s == null ? "" : s;
  }

  /** Token attribute values as CEL's runtime expects them: long, double, String, Boolean, List, Map. */
  static @Nullable Object celValue(@Nullable Object v) {
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float || v instanceof BigDecimal) {
      return ((Number) v).doubleValue();
    }
    if (v instanceof BigInteger b) {
      return b.longValue();
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new HashMap<>();
      m.forEach((k, val) -> out.put(k, celValue(val)));
      return out;
    }
    if (v instanceof Collection<?> c) {
      List<Object> out = new ArrayList<>(c.size());
      c.forEach(x -> out.add(celValue(x)));
      return out;
    }
    return v;
  }
}

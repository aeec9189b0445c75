package io.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.model.Action;
import io.portcullis.testsupport.PostgresExtension;
import java.lang.reflect.Proxy;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The SQL a row filter compiles to, run in a real PostgreSQL, selects exactly the rows its in-memory twin selects:
 * for random filters of the push-down subset, random tokens (attributes missing, of the wrong type, lists with
 * NULLs) and random rows with NULLs.
 */
class RowFilterSqlEquivalenceProperties {
  static final PostgresExtension PG = new PostgresExtension();
  static Connection conn;
  static AutoCloseable server;

  static final List<String> STRINGS = List.of("", "a", "b", "ab", "B", "é", "z", "a b");

  @BeforeContainer
  static void start() throws SQLException {
    // jqwik does not run JUnit Jupiter extensions: drive PostgresExtension through a minimal ExtensionContext
    Map<Object, Object> store = new HashMap<>();
    Object[] self = new Object[1];
    ExtensionContext.Store st = (ExtensionContext.Store) Proxy.newProxyInstance(
        ExtensionContext.class.getClassLoader(), new Class<?>[] {ExtensionContext.Store.class}, (p, m, args) -> {
          if (m.getName().equals("getOrComputeIfAbsent")) {
            @SuppressWarnings("unchecked")
            java.util.function.Function<Object, Object> f = (java.util.function.Function<Object, Object>) args[1];
            return store.computeIfAbsent(args[0], f);
          }
          throw new UnsupportedOperationException(m.getName());
        });
    self[0] = Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(), new Class<?>[] {ExtensionContext.class},
        (p, m, args) -> switch (m.getName()) {
          case "getRoot" -> self[0];
          case "getStore" -> st;
          default -> throw new UnsupportedOperationException(m.getName());
        });
    PG.beforeAll((ExtensionContext) self[0]);
    server = (AutoCloseable) store.values().iterator().next();
    conn = PG.connect();
    PG.execute("CREATE TABLE t (id integer PRIMARY KEY, s text, n integer, b boolean)");
  }

  @AfterContainer
  static void stop() throws Exception {
    conn.close();
    server.close();
  }

  record Row(int id, String s, Integer n, Boolean b) {
    Object get(String column) {
      return switch (column) {
        case "s" -> s;
        case "n" -> n;
        case "b" -> b;
        default -> throw new IllegalArgumentException(column);
      };
    }
  }

  @Property(tries = 300)
  void sqlAndInMemoryTwinSelectTheSameRows(
      @ForAll("filters") String filter, @ForAll("attrs") Map<String, Object> attrs,
      @ForAll("scopes") Set<String> extraScopes, @ForAll("rows") List<Row> rows) throws Exception {
    PolicySnapshot snap = Fixtures.compile("""
        apps: [{id: a}]
        datasets:
          - name: t
            tags: [sandbox]
            source: {table: t}
            columns: [{name: s, type: text}, {name: n, type: integer}, {name: b, type: boolean}]
        grants:
          - app: a
            dataset: t
            row_filter: "%s"
        """.formatted(filter));
    Set<String> scopes = new java.util.HashSet<>(extraScopes);
    scopes.add("t:read");
    TokenClaims token = Fixtures.token("a", scopes, attrs);
    Decision d = snap.decide(Fixtures.request(token, "t", Action.READ));
    assertThat(d.allowed()).as(d.reason()).isTrue();
    BoundRowFilter f = d.rowFilter();

    try (Statement st = conn.createStatement()) {
      st.execute("TRUNCATE t");
    }
    try (PreparedStatement ins = conn.prepareStatement("INSERT INTO t VALUES (?, ?, ?, ?)")) {
      for (Row r : rows) {
        ins.setInt(1, r.id());
        ins.setObject(2, r.s(), Types.VARCHAR);
        ins.setObject(3, r.n(), Types.INTEGER);
        ins.setObject(4, r.b(), Types.BOOLEAN);
        ins.addBatch();
      }
      ins.executeBatch();
    }
    Set<Integer> inDb = new TreeSet<>();
    String jdbcSql = "SELECT id FROM t WHERE " + f.sql().replaceAll("\\$\\d+", "?");
    try (PreparedStatement q = conn.prepareStatement(jdbcSql)) {
      Object[] params = f.params();
      for (int i = 0; i < params.length; i++) {
        bind(q, i + 1, params[i]);
      }
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          inDb.add(rs.getInt(1));
        }
      }
    }
    Set<Integer> inMemory = new TreeSet<>();
    for (Row r : rows) {
      if (f.test(r::get)) {
        inMemory.add(r.id());
      }
    }
    assertThat(inMemory).as("filter %s%nsql %s%nparams %s", filter, f.sql(), Arrays.deepToString(f.params()))
        .isEqualTo(inDb);
  }

  private static void bind(PreparedStatement q, int i, Object v) throws SQLException {
    if (v == null) {
      q.setNull(i, Types.VARCHAR);
    } else if (v instanceof String s) {
      q.setString(i, s);
    } else if (v instanceof Long l) {
      q.setLong(i, l);
    } else if (v instanceof Double x) {
      q.setDouble(i, x);
    } else if (v instanceof Boolean b) {
      q.setBoolean(i, b);
    } else if (v instanceof Long[] a) {
      Array arr = conn.createArrayOf("bigint", a);
      q.setArray(i, arr);
    } else if (v instanceof Boolean[] a) {
      q.setArray(i, conn.createArrayOf("boolean", a));
    } else if (v instanceof String[] a) {
      q.setArray(i, conn.createArrayOf("text", a));
    } else {
      throw new IllegalArgumentException("param " + v.getClass());
    }
  }

  // ---- generators ---------------------------------------------------------------------------------------------

  @Provide
  Arbitrary<String> filters() {
    return Arbitraries.lazyOf(this::atom, this::atom, this::atom, this::and, this::or, this::not);
  }

  private Arbitrary<String> and() {
    return Combinators.combine(filters(), filters()).as((a, b) -> "(" + a + " && " + b + ")");
  }

  private Arbitrary<String> or() {
    return Combinators.combine(filters(), filters()).as((a, b) -> "(" + a + " || " + b + ")");
  }

  private Arbitrary<String> not() {
    return filters().map(a -> "!(" + a + ")");
  }

  private static Arbitrary<String> op() {
    return Arbitraries.of("==", "!=", "<", "<=", ">", ">=");
  }

  private static Arbitrary<String> strLit() {
    return Arbitraries.of(STRINGS).map(s -> "'" + s + "'");
  }

  private static Arbitrary<String> intLit() {
    return Arbitraries.integers().between(-3, 3).map(String::valueOf);
  }

  private Arbitrary<String> atom() {
    return Arbitraries.oneOf(
        Combinators.combine(op(), Arbitraries.oneOf(strLit(), Arbitraries.of("token.attrs.s", "token.attrs.n")))
            .as((o, v) -> "row.s " + o + " " + v),
        Combinators.combine(op(), Arbitraries.oneOf(intLit(), Arbitraries.of("token.attrs.n", "token.attrs.s")))
            .as((o, v) -> "row.n " + o + " " + v),
        Combinators.combine(op(), intLit()).as((o, v) -> v + " " + o + " row.n"),
        Combinators.combine(op(), Arbitraries.of("true", "false", "token.attrs.b"))
            .as((o, v) -> "row.b " + o + " " + v),
        Arbitraries.of("row.b", "row.s == null", "row.n != null", "row.b == null", "row.s != null"),
        strLit().list().ofMaxSize(3).map(l -> "row.s in [" + String.join(", ", l) + "]"),
        intLit().list().ofMaxSize(3).map(l -> "row.n in [" + String.join(", ", l) + "]"),
        Arbitraries.of("row.n in token.attrs.ns", "row.s in token.attrs.ss", "row.n in token.attrs.ss"),
        Arbitraries.of("'x:y' in token.scope", "token.attrs.n > 0", "token.attrs.b", "true", "false"));
  }

  @Provide
  Arbitrary<Map<String, Object>> attrs() {
    Arbitrary<Object> s = Arbitraries.oneOf(Arbitraries.of(STRINGS).map(x -> (Object) x), Arbitraries.just(7L));
    Arbitrary<Object> n = Arbitraries.oneOf(Arbitraries.integers().between(-3, 3).map(x -> (Object) x),
        Arbitraries.of("2", "x", 2.5, 1.0, Long.MAX_VALUE));
    Arbitrary<Object> b = Arbitraries.of(true, false, "true", 1);
    Arbitrary<Object> ns = Arbitraries.integers().between(-3, 3).injectNull(0.2).list().ofMaxSize(3)
        .map(l -> (Object) new ArrayList<>(l));
    Arbitrary<Object> ss = Arbitraries.of(STRINGS).injectNull(0.2).list().ofMaxSize(3)
        .map(l -> (Object) new ArrayList<>(l));
    return Combinators.combine(s.injectNull(0.2), n.injectNull(0.2), b.injectNull(0.2), ns.injectNull(0.2),
        ss.injectNull(0.2)).as((xs, xn, xb, xns, xss) -> {
          Map<String, Object> m = new HashMap<>();
          // a null here means "attribute missing from the token"
          if (xs != null) {
            m.put("s", xs);
          }
          if (xn != null) {
            m.put("n", xn);
          }
          if (xb != null) {
            m.put("b", xb);
          }
          if (xns != null) {
            m.put("ns", xns);
          }
          if (xss != null) {
            m.put("ss", xss);
          }
          return m;
        });
  }

  @Provide
  Arbitrary<Set<String>> scopes() {
    return Arbitraries.of("x:y", "t:write").set().ofMaxSize(2);
  }

  @Provide
  Arbitrary<List<Row>> rows() {
    Arbitrary<String> s = Arbitraries.of(STRINGS).injectNull(0.25);
    Arbitrary<Integer> n = Arbitraries.integers().between(-3, 3).injectNull(0.25);
    Arbitrary<Boolean> b = Arbitraries.of(true, false).injectNull(0.25);
    return Combinators.combine(s, n, b).as((x, y, z) -> new Object[] {x, y, z}).list().ofMinSize(1).ofMaxSize(12)
        .map(l -> {
          List<Row> out = new ArrayList<>();
          for (int i = 0; i < l.size(); i++) {
            out.add(new Row(i, (String) l.get(i)[0], (Integer) l.get(i)[1], (Boolean) l.get(i)[2]));
          }
          return out;
        });
  }
}

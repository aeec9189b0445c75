package io.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyCompilerTest {
  static final String BASE = """
      apps: [{id: a}]
      datasets:
        - name: items
          tags: [sandbox]
          source: {table: items}
          columns:
            - {name: id, type: bigint}
            - {name: sku, type: text}
            - {name: price, type: numeric}
            - {name: doc, type: jsonb}
      grants:
        - app: a
          dataset: items
      """;

  static List<ConfigIssue> issues(String grantExtra) {
    try {
      Fixtures.compile(BASE + grantExtra);
    } catch (PolicyConfigException e) {
      return e.issues();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected issues");
  }

  @Test
  void rejectsArithmeticInRowFilterAtTheOperator() {
    List<ConfigIssue> i = issues("    row_filter: row.price * 2 > 10\n");
    assertThat(i).hasSize(1);
    assertThat(i.get(0).path()).isEqualTo("grants[0].row_filter");
    assertThat(i.get(0).line()).isEqualTo(14);
    assertThat(i.get(0).column()).isEqualTo(27);
    assertThat(i.get(0).message()).contains("'*' is not in the push-down subset");
    assertThat(i.get(0).render()).endsWith(
        "\n |     row_filter: row.price * 2 > 10\n |                           ^");
  }

  @Test
  void rejectsFunctionCallsOnColumns() {
    List<ConfigIssue> i = issues("    row_filter: \"row.id > 3 && size(row.sku) > 3\"\n");
    assertThat(i).hasSize(1);
    assertThat(i.get(0).message()).contains("not in the push-down subset");
    // a call is reported at its opening parenthesis (CEL's position for calls)
    assertThat(i.get(0).column()).isEqualTo(36);
  }

  @Test
  void rejectsUnknownColumnWithItsPosition() {
    List<ConfigIssue> i = issues("    row_filter: row.id == 1 || row.nope == 'x'\n");
    assertThat(i).extracting(ConfigIssue::message).containsExactly(
        "unknown column 'nope' of dataset items (declared: id, sku, price, doc)");
    // a field selection is reported at its dot (CEL's position for selects)
    assertThat(i.get(0).column()).isEqualTo(35);
  }

  @Test
  void rejectsLiteralOfTheWrongType() {
    List<ConfigIssue> i = issues("    row_filter: row.id == 'abc'\n");
    assertThat(i.get(0).message()).isEqualTo("row.id is bigint; 'abc' (a string) is not");
  }

  @Test
  void rejectsJsonbColumnsAndColumnToColumnComparisons() {
    assertThat(issues("    row_filter: row.doc == 'x'\n").get(0).message()).contains("jsonb");
    assertThat(issues("    row_filter: row.sku == row.id\n").get(0).message()).contains("compares two columns");
  }

  @Test
  void reportsCelSyntaxErrorsAtTheirPosition() {
    List<ConfigIssue> i = issues("    condition: \"token.tier ==\"\n");
    assertThat(i.get(0).path()).isEqualTo("grants[0].condition");
    assertThat(i.get(0).message()).startsWith("CEL:");
    assertThat(i.get(0).line()).isEqualTo(14);
  }

  @Test
  void reportsUnknownTokenFields() {
    List<ConfigIssue> i = issues("    condition: token.teir == 1\n");
    assertThat(i.get(0).message()).startsWith("unknown field 'teir' of token");
  }

  @Test
  void reportsUnknownReferencesWithPositions() throws Exception {
    String yaml = """
        apps: [{id: a, consents: [ghost]}]
        datasets:
          - name: items
            source: {table: items}
            columns: [{name: id, type: bigint}]
        grants:
          - app: b
            dataset: items
          - app: a
            dataset: nope
          - app: a
            dataset: items
            columns: {allow: [id, name], masks: {id: scramble}}
        policies:
          - {id: p, builtin: no-such-thing}
        settings: {disabled_builtins: [residencyy]}
        """;
    try {
      PolicyCompiler.compile(PolicyConfigLoader.parseLocated(yaml, "t.yaml"), Fixtures.OPTIONS);
      throw new AssertionError("expected issues");
    } catch (PolicyConfigException e) {
      assertThat(e.issues()).extracting(ConfigIssue::path).containsExactlyInAnyOrder(
          "settings.disabled_builtins", "apps[0].consents", "policies[0].builtin", "grants[0].app",
          "grants[1].dataset", "grants[2].columns.allow[1]", "grants[2].columns.masks.id");
      ConfigIssue app = e.issues().stream().filter(x -> x.path().equals("grants[0].app")).findFirst().orElseThrow();
      assertThat(app.line()).isEqualTo(7);
      assertThat(app.column()).isEqualTo(10);
      assertThat(app.message()).isEqualTo("unknown app 'b'");
    }
  }

  @Test
  void rejectsDuplicateGrantsForTheSameAction() {
    List<ConfigIssue> i = issues("  - {id: g2, app: a, dataset: items, actions: [read]}\n");
    assertThat(i.get(0).message()).contains("already has a read grant on items");
  }

  @Test
  void compilesTheSubsetToSqlWithBindMarkersOnly() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + """
            row_filter: >-
              (row.sku in ['a', 'b'] || 10 < row.price) && !(row.id in token.attrs.ids)
              && row.sku != null && 'x:y' in token.scope
        """);
    TokenClaims t = Fixtures.token("a", java.util.Set.of("items:read"), java.util.Map.of("ids", List.of(1, 2)));
    BoundRowFilter f = s.decide(Fixtures.request(t, "items", io.portcullis.policy.model.Action.READ)).rowFilter();
    assertThat(f.sql()).isEqualTo("(((\"sku\" = ANY($1::text[])) OR (\"price\" > $2::numeric))"
        + " AND (NOT (\"id\" = ANY($3::bigint[]))) AND (\"sku\" IS NOT NULL) AND $4::boolean)");
    assertThat(f.params()).hasSize(4);
    assertThat((Object[]) f.params()[0]).containsExactly("a", "b");
    assertThat(f.params()[1]).isEqualTo(10.0);
    assertThat((Object[]) f.params()[2]).containsExactly(1L, 2L);
    assertThat(f.params()[3]).isEqualTo(false);
  }

  static java.util.Map<String, Object> equalities(String rowFilter, java.util.Map<String, Object> attrs)
      throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + "    row_filter: >-\n      " + rowFilter + "\n");
    TokenClaims t = Fixtures.token("a", java.util.Set.of("items:read"), attrs);
    return s.decide(Fixtures.request(t, "items", io.portcullis.policy.model.Action.READ)).rowFilter().equalities();
  }

  @Test
  void equalitiesAreTheTopLevelAndedEqualityTermsWithTheirBoundValues() throws Exception {
    java.util.Map<String, Object> attrs = java.util.Map.of("sku", "s-1", "id", 7);
    // a lone term, flipped operands, nested conjunctions: every passing row has these values
    assertThat(equalities("row.sku == token.attrs.sku", attrs)).containsExactly(java.util.Map.entry("sku", "s-1"));
    assertThat(equalities("token.attrs.id == row.id && (row.price > 3.0 && row.sku == 'x')", attrs))
        .containsExactly(java.util.Map.entry("id", 7L), java.util.Map.entry("sku", "x"));
    // under OR or NOT, or not an equality: no constraint on its own
    assertThat(equalities("row.sku == 'a' || row.sku == 'b'", attrs)).isEmpty();
    assertThat(equalities("row.id == 1 && (row.sku == 'a' || row.price > 1.0)", attrs))
        .containsExactly(java.util.Map.entry("id", 1L));
    assertThat(equalities("!(row.sku == 'a') && row.sku != 'b' && row.id >= 2 && row.sku in ['c']", attrs))
        .isEmpty();
    // a missing attribute binds NULL: the filter matches nothing and nothing is pushed
    assertThat(equalities("row.sku == token.attrs.missing", attrs)).isEmpty();
  }

  @Test
  void noRowFilterHasNoEqualities() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE);
    TokenClaims t = Fixtures.token("a", java.util.Set.of("items:read"), java.util.Map.of());
    assertThat(s.decide(Fixtures.request(t, "items", io.portcullis.policy.model.Action.READ)).rowFilter()
        .equalities()).isEmpty();
  }
}

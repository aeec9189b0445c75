package io.portcullis.policy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.policy.model.Action;
import io.portcullis.policy.model.AppStatus;
import io.portcullis.policy.model.ColumnType;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.Effect;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.PostgresSource;
import io.portcullis.policy.model.Template;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyConfigLoaderTest {
  static final Path EXAMPLE = Path.of("examples/portcullis.yaml");

  @Test
  void readsTheSampleConfigWithDefaults() throws Exception {
    PolicyConfig c = PolicyConfigLoader.load(EXAMPLE);
    assertThat(c.apps()).hasSize(4);
    assertThat(c.apps().get(0).quota().budget().zone()).isEqualTo("Europe/Paris");
    assertThat(c.apps().get(1).status()).isEqualTo(AppStatus.ACTIVE);
    assertThat(c.apps().get(1).quota()).isNull();
    assertThat(c.apps().get(3).status()).isEqualTo(AppStatus.PAUSED);
    Dataset items = c.datasets().get(0);
    assertThat(items.maxLimit()).isEqualTo(1000);
    assertThat(items.defaultLimit()).isEqualTo(100);
    assertThat(items.costWeight()).isEqualTo(0.5);
    assertThat(items.source()).isEqualTo(new PostgresSource("inventory", "items", "id"));
    assertThat(items.column("id").type()).isEqualTo(ColumnType.BIGINT);
    assertThat(items.column("id").nullable()).isFalse();
    Dataset people = c.datasets().get(1);
    assertThat(people.template()).isEqualTo(Template.DIRECTORY);
    assertThat(people.roles().owner()).isEqualTo("owner_id");
    assertThat(people.roles().softDelete()).isEqualTo("deleted_at");
    assertThat(c.grants().get(4).actions()).containsExactly(Action.READ);
    assertThat(c.grants().get(4).columns().allow()).isNull();
    assertThat(c.grants().get(3).approval().by()).isEqualTo("erin@corp.com");
    assertThat(c.policies().get(1).effect()).isEqualTo(Effect.DENY);
    assertThat(c.policies().get(2).effect()).isEqualTo(Effect.MASK);
    assertThat(c.routes().get(0).timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.routes().get(0).filterParams()).containsExactly(java.util.Map.entry("warehouse", "wh"));
    assertThat(c.settings().piiMode()).isEqualTo("mask");
  }

  @Test
  void writerRoundTripsTheSampleConfig() throws Exception {
    PolicyConfig c = PolicyConfigLoader.load(EXAMPLE);
    String yaml = PolicyConfigWriter.toYaml(c);
    assertThat(PolicyConfigLoader.parse(yaml, "written.yaml")).isEqualTo(c);
    // stable output: writing twice gives the same text
    assertThat(PolicyConfigWriter.toYaml(PolicyConfigLoader.parse(yaml, "w"))).isEqualTo(yaml);
  }

  @Test
  void writerQuotesStringsThatLookLikeOtherScalars() throws Exception {
    String yaml = """
        apps:
          - {id: "123", name: "true", owner: "null", team: "1.5", cost_center: "0x10", tier: 0}
        """;
    PolicyConfig c = PolicyConfigLoader.parse(yaml, "t.yaml");
    assertThat(PolicyConfigLoader.parse(PolicyConfigWriter.toYaml(c), "w")).isEqualTo(c);
  }

  @Test
  void reportsUnknownKeyWithPositionPathAndCaret() {
    String yaml = """
        apps:
          - id: a
            tierr: 1
        """;
    PolicyConfigException e = catchConfig(yaml);
    ConfigIssue i = e.issues().get(0);
    assertThat(i.line()).isEqualTo(3);
    assertThat(i.column()).isEqualTo(5);
    assertThat(i.path()).isEqualTo("apps[0].tierr");
    assertThat(i.render()).isEqualTo("""
        t.yaml:3:5: apps[0].tierr: unknown key 'tierr' (did you mean 'tier'?)
         |     tierr: 1
         |     ^""");
  }

  @Test
  void collectsEveryIssueInOneRun() {
    String yaml = """
        apps:
          - id: a
            tier: 7
            status: sleeping
        datasets:
          - name: d
            source: {type: postgres}
            columns:
              - {name: x, type: varchar}
        grants:
          - app: a
            dataset: d
            actions: [read, fly]
        """;
    PolicyConfigException e = catchConfig(yaml);
    assertThat(e.issues()).extracting(ConfigIssue::path).containsExactly(
        "apps[0].tier", "apps[0].status", "datasets[0].source.table", "datasets[0].columns[0].type",
        "grants[0].actions[1]");
    assertThat(e.issues().get(0).message()).isEqualTo("7 (expected: 0..2)");
    assertThat(e.issues().get(1).message()).isEqualTo("'sleeping' (expected one of: active, paused, retired)");
    assertThat(e.issues().get(4).line()).isEqualTo(13);
    assertThat(e.issues().get(4).column()).isEqualTo(21);
  }

  @Test
  void reportsYamlSyntaxErrorsWithPosition() {
    PolicyConfigException e = catchConfig("apps:\n  - id: [a\n");
    assertThat(e.issues()).hasSize(1);
    assertThat(e.issues().get(0).line()).isGreaterThan(0);
    assertThat(e.issues().get(0).message()).startsWith("YAML syntax:");
  }

  @Test
  void reportsDuplicateIds() {
    PolicyConfigException e = catchConfig("""
        apps:
          - {id: a}
          - {id: a}
        """);
    assertThat(e.issues()).extracting(ConfigIssue::path, ConfigIssue::message)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("apps[1].id", "duplicate id 'a'"));
  }

  @Test
  void filterParamsNeedPlainUniqueParameterNames() {
    PolicyConfigException e = catchConfig("""
        routes:
          - {id: r, path_prefix: /r, uri: "http://u", filter_params: {owner_id: "owner&all=1", region: r, zone: R}}
        """);
    assertThat(e.issues()).extracting(ConfigIssue::path).containsExactly(
        "routes[0].filter_params.owner_id", "routes[0].filter_params.zone");
    assertThat(e.issues().get(1).message()).contains("already used");
  }

  @Test
  void sourceMapPointsInsideQuotedAndBlockExpressions() throws Exception {
    String yaml = """
        grants:
          - app: a
            dataset: d
            row_filter: "row.x == 1"
            condition: |
              token.tier == 1 &&
                request.method == 'GET'
        """;
    LocatedConfig lc = PolicyConfigLoader.parseLocated(yaml, "t.yaml");
    ConfigIssue quoted = lc.sourceMap().issueInExpression("grants[0].row_filter", 1, 5, "m");
    assertThat(quoted.line()).isEqualTo(4);
    assertThat(quoted.column()).isEqualTo(22);
    ConfigIssue block = lc.sourceMap().issueInExpression("grants[0].condition", 2, 3, "m");
    assertThat(block.line()).isEqualTo(7);
    assertThat(block.column()).isEqualTo(9);
  }

  @Test
  void emptyDocumentIsAnIssueNotAnException() {
    assertThat(catchConfig("").issues()).hasSize(1);
  }

  static PolicyConfigException catchConfig(String yaml) {
    try {
      PolicyConfigLoader.parse(yaml, "t.yaml");
    } catch (PolicyConfigException e) {
      return e;
    }
    throw new AssertionError("expected issues for:\n" + yaml);
  }

  @Test
  void missingFileIsAnIssue() {
    assertThatThrownBy(() -> PolicyConfigLoader.load(Path.of("does/not/exist.yaml")))
        .isInstanceOf(PolicyConfigException.class);
    List.of();
  }
}

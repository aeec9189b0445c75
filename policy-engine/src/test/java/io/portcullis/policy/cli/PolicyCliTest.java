package io.portcullis.policy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCliTest {
  static final String CONFIG = "examples/portcullis.yaml";
  static final String TESTS = "examples/policy-tests.yaml";

  @TempDir
  Path tmp;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = PolicyCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void validatesTheSampleConfig() {
    Result r = run("validate", CONFIG);
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("OK (4 apps, 3 datasets, 6 grants");
  }

  @Test
  void validateFailsWithPositionedIssuesAndCarets() throws Exception {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, Files.readString(Path.of(CONFIG))
        .replace("row_filter: row.team_id == token.attrs.team_id", "row_filter: row.team == token.attrs.team_id")
        .replace("dataset: finance.payroll", "dataset: finance.payrol"));
    Result r = run("validate", bad.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("bad.yaml:").contains("grants[0].row_filter: unknown column 'team'")
        .contains("grants[3].dataset: unknown dataset 'finance.payrol'").contains("^").contains("2 issues");
  }

  @Test
  void sampleTestsPass() {
    Result r = run("test", CONFIG, TESTS);
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("10 passed, 0 failed");
  }

  @Test
  void failingCaseExitsNonZeroWithADiff() throws Exception {
    Path tests = tmp.resolve("tests.yaml");
    Files.writeString(tests, """
        cases:
          - name: expects the wrong outcome and filter
            token: {client_id: expense-tracker, scope: inventory.items:read, attrs: {team_id: t9, region: eu}}
            request: {dataset: inventory.items, action: read}
            expect:
              allow: true
              row_filter:
                params: [t1, false, eu]
              masked: [price, sku]
          - name: passes
            token: {client_id: old-report, scope: inventory.items:read}
            request: {dataset: inventory.items, action: read}
            expect: {deny: app_paused}
        """);
    Result r = run("test", CONFIG, tests.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("""
        FAIL expects the wrong outcome and filter
          row_filter.params:
            expected: [t1, false, eu]
            actual:   [t9, false, eu]
          masked:
            expected: [price, sku]
            actual:   [price]
        PASS passes
        """).contains("1 passed, 1 failed");
  }

  @Test
  void wrongDenyCodeShowsTheReason() throws Exception {
    Path tests = tmp.resolve("tests.yaml");
    Files.writeString(tests, """
        cases:
          - name: n
            token: {client_id: expense-tracker, scope: hr.people:read}
            request: {dataset: inventory.items, action: read}
            expect: {allow: true}
        """);
    Result r = run("test", CONFIG, tests.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("expected: allow").contains("actual:   scope_missing (token lacks scope");
  }

  @Test
  void usageErrorsExitWithTwo() throws Exception {
    assertThat(run().code()).isEqualTo(2);
    assertThat(run("frobnicate", CONFIG).err()).contains("usage:");
    Path empty = tmp.resolve("empty.yaml");
    Files.writeString(empty, "nothing: here\n");
    assertThat(run("test", CONFIG, empty.toString()).code()).isEqualTo(2);
  }
}

package io.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden error output, as cel-java pins its policy errors: each {@code config-errors/<case>/config.yaml} must fail
 * with exactly the rendered issues in {@code expected_errors.baseline}. Run with {@code -Dbaseline.update=true} to
 * rewrite the baselines after an intended change, then review the diff.
 */
class ConfigErrorBaselineTest {
  static final Path ROOT = Path.of("src/test/resources/config-errors");

  static Stream<String> cases() throws IOException {
    try (Stream<Path> dirs = Files.list(ROOT)) {
      return dirs.map(p -> p.getFileName().toString()).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void rendersTheBaselineIssues(String name) throws Exception {
    Path dir = ROOT.resolve(name);
    String actual;
    try {
      PolicyCompiler.compile(PolicyConfigLoader.loadLocated(dir.resolve("config.yaml")), Fixtures.OPTIONS);
      actual = "<no issues>";
    } catch (PolicyConfigException e) {
      actual = e.render().replace(dir.resolve("config.yaml").toString(), "config.yaml") + "\n";
    }
    Path baseline = dir.resolve("expected_errors.baseline");
    if (Boolean.getBoolean("baseline.update") || !Files.exists(baseline)) {
      Files.writeString(baseline, actual);
    }
    assertThat(actual).isEqualTo(Files.readString(baseline));
  }
}

package io.portcullis.policy;

import io.portcullis.policy.config.LocatedConfig;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Loader and compiler only ever fail with {@link PolicyConfigException} (the declared exception, as Caffeine's spec
 * fuzzer demands), whatever mutation of a valid config they are given; what loads also round-trips.
 */
class ConfigFuzzProperties {
  static final List<String> LINES;

  static {
    try {
      LINES = Files.readAllLines(Path.of("examples/portcullis.yaml"));
    } catch (java.io.IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @Property(tries = 400)
  void onlyTheDeclaredExceptionEscapes(@ForAll("mutations") List<Tuple.Tuple3<Integer, Integer, String>> edits)
      throws Exception {
    List<String> lines = new ArrayList<>(LINES);
    for (Tuple.Tuple3<Integer, Integer, String> e : edits) {
      int i = e.get1() % lines.size();
      String line = lines.get(i);
      switch (e.get2()) {
        case 0 -> lines.remove(i);
        case 1 -> lines.add(i, line);
        case 2 -> lines.set(i, line.isEmpty() ? e.get3() : line.substring(0, i % line.length()) + e.get3()
            + line.substring(i % line.length()));
        default -> lines.set(i, e.get3());
      }
      if (lines.isEmpty()) {
        lines.add(e.get3());
      }
    }
    String yaml = String.join("\n", lines);
    try {
      LocatedConfig lc = PolicyConfigLoader.parseLocated(yaml, "fuzz.yaml");
      PolicyCompiler.compile(lc, Fixtures.OPTIONS);
      String written = PolicyConfigWriter.toYaml(lc.config());
      if (!PolicyConfigLoader.parse(written, "w").equals(lc.config())) {
        throw new AssertionError("round trip changed the config:\n" + yaml);
      }
    } catch (PolicyConfigException expected) {
      expected.render();
    }
  }

  @Provide
  Arbitrary<List<Tuple.Tuple3<Integer, Integer, String>>> mutations() {
    Arbitrary<String> fragments = Arbitraries.oneOf(
        Arbitraries.of(":", "- ", "[", "]", "{", "}", "'", "\"", "#", "&a", "*a", "!!int", "|", ">", "\t", "  ",
            "null", "~", "-1", "3", "true", "row.", "&&", "in", "token.attrs.", "1e999", "9999999999999999999",
            "tier: 5", "actions: [fly]", "masks: {x: y}", "row_filter: row.id + 1 > 2", "condition: (", "é"),
        Arbitraries.strings().ofMaxLength(6));
    return Arbitraries.integers().between(0, 10_000)
        .flatMap(i -> Arbitraries.integers().between(0, 3)
            .flatMap(k -> fragments.map(f -> Tuple.of(i, k, f))))
        .list().ofMinSize(1).ofMaxSize(4);
  }
}

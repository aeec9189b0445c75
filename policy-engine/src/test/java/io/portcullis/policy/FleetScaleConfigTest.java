package io.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A whole fleet's config (10,000 apps, 100,000 grants, ≈ 7 MB of YAML) goes through the one loader the GitOps
 * import, the admin API and the CLI share. */
class FleetScaleConfigTest {
  static final int APPS = 10_000;
  static final int GRANTS_PER_APP = 10;
  static final int DATASETS = 100;

  static String fleetYaml() {
    StringBuilder y = new StringBuilder(8 << 20).append("apps:\n");
    for (int i = 0; i < APPS; i++) {
      y.append("  - {id: app-").append(i).append(", tier: 1, team: t").append(i % 50).append("}\n");
    }
    y.append("datasets:\n");
    for (int d = 0; d < DATASETS; d++) {
      y.append("  - {name: ds-").append(d).append(", columns: [{name: id, type: bigint}, {name: title, type: text}],")
          .append(" source: {type: postgres, schema: fleet, table: t").append(d).append("}}\n");
    }
    y.append("grants:\n");
    for (int i = 0; i < APPS; i++) {
      for (int k = 0; k < GRANTS_PER_APP; k++) {
        y.append("  - {id: g-").append(i).append('-').append(k).append(", app: app-").append(i)
            .append(", dataset: ds-").append((i + 7 * k) % DATASETS).append(", actions: [read]}\n");
      }
    }
    return y.toString();
  }

  @Test
  void aHundredThousandGrantsLoadFromYamlAndDecide() throws Exception {
    String yaml = fleetYaml();
    assertThat(yaml.length()).as("bigger than the YAML parser's default 3 MiB limit").isGreaterThan(3 << 20);

    PolicySnapshot snapshot = PolicyCompiler.compile(PolicyConfigLoader.parseLocated(yaml, "fleet.yaml"), Fixtures.OPTIONS);

    assertThat(snapshot.config().grants()).hasSize(APPS * GRANTS_PER_APP);
    TokenClaims token = Fixtures.token("app-9999", Set.of("ds-62:read", "ds-63:read"), Map.of());
    // app-9999's grant 9 is on (9999 + 63) % 100 = ds-62; it holds no grant on ds-63
    assertThat(snapshot.decide(Fixtures.request(token, "ds-62", Action.READ)).policyIds()).contains("g-9999-9");
    assertThat(snapshot.decide(Fixtures.request(token, "ds-62", Action.READ)).allowed()).isTrue();
    assertThat(snapshot.decide(Fixtures.request(token, "ds-63", Action.READ)).allowed()).isFalse();
  }
}

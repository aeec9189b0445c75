package io.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** GitOps at start: {@code portcullis.policy.config-file} becomes the serving version, stored with its origin. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ConfigFileImportTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final String CONFIG = """
      apps:
        - id: gitops-app
          tier: 1
      datasets:
        - name: ops.tickets
          template: custom
          source: {type: postgres, schema: public, table: tickets, key: id}
          columns:
            - {name: id, type: bigint}
            - {name: title, type: text}
      grants:
        - id: gitops-app-tickets
          app: gitops-app
          dataset: ops.tickets
          actions: [read]
      """;

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.policy.config-file", () -> write(CONFIG));
  }

  static String write(String yaml) {
    try {
      Path file = Files.createTempFile("portcullis", ".yaml");
      Files.writeString(file, yaml);
      return file.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Autowired
  SnapshotHolder snapshots;

  @Test
  void theConfigFileIsStoredAsANewVersionWithItsOriginAndServes() throws Exception {
    assertThat(snapshots.current().app("gitops-app")).isNotNull();
    assertThat(snapshots.current().app("team-inventory")).as("the demo seed was replaced").isNull();
    try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT version, author, reason FROM portcullis.config_versions ORDER BY version DESC LIMIT 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong("version")).isEqualTo(snapshots.current().version()).isGreaterThan(1);
      assertThat(rs.getString("author")).isEqualTo("config-file");
      assertThat(rs.getString("reason")).startsWith("imported from portcullis");
    }
  }
}

package io.portcullis.gateway.demo;

import io.portcullis.broker.SecretHasher;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.InstanceSecrets;
import io.portcullis.gateway.database.SqlScripts;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Seeds the demo on first start: the three template datasets with sample rows, and the demo config with one app per
 * tier. Client secrets are generated here, stored hashed in the config and in plain text only in the demo's own
 * secrets table, so the start banner can print them; outside demo mode no secret is ever generated or stored plain.
 */
public final class DemoSeeder {

  public static final List<String> DEMO_APPS = List.of("survey-sandbox", "team-inventory", "hr-headcount");
  public static final String ADMIN_APP = "portcullis-admin";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ConnectionFactory connections;
  private final ConfigStore configs;
  private final InstanceSecrets secrets;

  public DemoSeeder(ConnectionFactory connections, ConfigStore configs, InstanceSecrets secrets) {
    this.connections = connections;
    this.configs = configs;
    this.secrets = secrets;
  }

  /** Creates the demo tables and rows (idempotent) and, when no config exists yet, the demo config. */
  public Mono<Map<String, String>> seed() {
    return SqlScripts.run(connections, "demo/demo-data.sql")
        .then(clientSecrets())
        .flatMap(clientSecrets -> configs.latest()
            .map(existing -> clientSecrets)
            .switchIfEmpty(Mono.defer(() -> configs.append(demoConfig(clientSecrets), "demo-seed",
                    "demo datasets, apps and grants (README tour)")
                .thenReturn(clientSecrets))));
  }

  private Mono<Map<String, String>> clientSecrets() {
    List<String> apps = new java.util.ArrayList<>(DEMO_APPS);
    apps.add(ADMIN_APP);
    return Flux.fromIterable(apps)
        .concatMap(app -> secrets.getOrCreate("demo-client-secret:" + app, DemoSeeder::newSecret)
            .map(secret -> Map.entry(app, secret)))
        .collectMap(Map.Entry::getKey, Map.Entry::getValue, LinkedHashMap::new);
  }

  static String demoConfig(Map<String, String> clientSecrets) {
    String yaml = read("demo/demo-config.yaml");
    for (Map.Entry<String, String> e : clientSecrets.entrySet()) {
      yaml = yaml.replace("${" + e.getKey() + "}", SecretHasher.hash(e.getValue().toCharArray()));
    }
    return yaml;
  }

  static String newSecret() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return "pcs_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String read(String resource) {
    try (InputStream in = DemoSeeder.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing classpath resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

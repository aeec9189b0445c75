package io.portcullis.gateway.config;

import io.portcullis.gateway.database.DatabaseProperties;
import io.portcullis.gateway.database.SqlScripts;
import io.portcullis.gateway.demo.DemoProperties;
import io.portcullis.gateway.demo.DemoSeeder;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Loads the current config version at start: schema, demo seed (when enabled), newest stored version, compiled into
 * the first snapshot. Start-up blocks here on purpose — the gateway must not answer before it has a policy.
 */
@Configuration(proxyBeanMethods = false)
class ConfigConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ConfigConfiguration.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean
  ConfigStore configStore(ConnectionFactory connections) {
    return new ConfigStore(connections);
  }

  @Bean
  InstanceSecrets instanceSecrets(ConnectionFactory connections) {
    return new InstanceSecrets(connections);
  }

  @Bean
  SchemaReady schemaReady(ConnectionFactory connections) {
    SqlScripts.run(connections, "db/gateway-schema.sql").block(STARTUP_TIMEOUT);
    return new SchemaReady();
  }

  @Bean
  DemoSeeder demoSeeder(ConnectionFactory connections, ConfigStore store, InstanceSecrets secrets) {
    return new DemoSeeder(connections, store, secrets);
  }

  @Bean
  PolicyCompilerService policyCompilerService(InstanceSecrets secrets, PolicyProperties properties, SchemaReady ready) {
    String key = properties.hashKey().isBlank()
        ? secrets.getOrCreate("hash-mask-key", ConfigConfiguration::newKey).block(STARTUP_TIMEOUT)
        : properties.hashKey();
    return new PolicyCompilerService(Base64.getDecoder().decode(key), Clock.systemUTC());
  }

  @Bean
  SnapshotHolder snapshotHolder(ConfigStore store, DemoSeeder seeder, DemoProperties demo, DatabaseProperties database,
      PolicyProperties policy, PolicyCompilerService compiler, SchemaReady ready) {
    if (demo.enabledFor(database.embedded())) {
      seeder.seed().block(STARTUP_TIMEOUT);
    }
    if (!policy.configFile().isBlank()) {
      importConfigFile(Path.of(policy.configFile()), store, compiler);
    }
    StoredConfig stored = store.latest().block(STARTUP_TIMEOUT);
    if (stored == null) {
      throw new IllegalStateException("no config version stored: start with --portcullis.demo.enabled=true, "
          + "or import a config with --portcullis.policy.config-file=portcullis.yaml");
    }
    try {
      PolicySnapshot snapshot = compiler.compile(stored);
      log.info("Policy config version {} loaded ({} apps, {} datasets, {} grants)", stored.version(),
          snapshot.config().apps().size(), snapshot.config().datasets().size(), snapshot.config().grants().size());
      return new SnapshotHolder(snapshot);
    } catch (PolicyConfigException e) {
      StringBuilder issues = new StringBuilder();
      e.issues().forEach(issue -> issues.append('\n').append(issue.render()));
      throw new IllegalStateException("stored config version " + stored.version() + " does not compile:" + issues, e);
    }
  }

  @Bean
  ConfigReloader configReloader(ConnectionFactory connections, ConfigStore store, PolicyCompilerService compiler,
      SnapshotHolder holder) {
    return new ConfigReloader(connections, store, compiler, holder, Duration.ofSeconds(5));
  }

  /**
   * GitOps at start: the file becomes a new version when it differs from the stored one (validated first; a file that
   * does not compile stops the start with every issue listed, and nothing is stored).
   */
  private static void importConfigFile(Path file, ConfigStore store, PolicyCompilerService compiler) {
    String yaml;
    try {
      yaml = Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read portcullis.policy.config-file " + file, e);
    }
    StoredConfig current = store.latest().block(STARTUP_TIMEOUT);
    if (current != null && current.yaml().equals(yaml)) {
      return;
    }
    try {
      compiler.validate(yaml, file.toString());
    } catch (PolicyConfigException e) {
      StringBuilder issues = new StringBuilder();
      e.issues().forEach(issue -> issues.append('\n').append(issue.render()));
      throw new IllegalStateException(file + " does not compile:" + issues, e);
    }
    Long version = store.append(yaml, "config-file", "imported from " + file.getFileName()).block(STARTUP_TIMEOUT);
    log.info("Config file {} stored as version {}", file, version);
  }

  private static String newKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** Marker: the gateway's schema exists. */
  record SchemaReady() {
  }
}

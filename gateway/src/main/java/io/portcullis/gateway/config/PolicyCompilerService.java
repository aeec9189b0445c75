package io.portcullis.gateway.config;

import io.portcullis.policy.CompileOptions;
import io.portcullis.policy.PolicyCompiler;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import java.time.Clock;

/** Compiles stored YAML with this instance's options (hash-mask key, clock); at start and on every config change. */
public final class PolicyCompilerService {

  private final byte[] hashKey;
  private final Clock clock;

  public PolicyCompilerService(byte[] hashKey, Clock clock) {
    if (hashKey.length < 32) {
      throw new IllegalArgumentException("hashKey: %d bytes (expected: >= 32)".formatted(hashKey.length));
    }
    this.hashKey = hashKey.clone();
    this.clock = clock;
  }

  /**
   * Compiles a draft without storing it: the admin API's validation (precise issues, nothing applied). Parsed with
   * its source map, so the compiler's issues (an unknown app, a bad row filter) carry the draft's line:col as the
   * CLI's do, not just a path.
   */
  public PolicySnapshot validate(String yaml, String source) throws PolicyConfigException {
    return PolicyCompiler.compile(PolicyConfigLoader.parseLocated(yaml, source), new CompileOptions(0, hashKey, clock));
  }

  public PolicySnapshot compile(StoredConfig stored) throws PolicyConfigException {
    return PolicyCompiler.compile(PolicyConfigLoader.parse(stored.yaml(), "config version " + stored.version()),
        new CompileOptions(stored.version(), hashKey, clock));
  }
}

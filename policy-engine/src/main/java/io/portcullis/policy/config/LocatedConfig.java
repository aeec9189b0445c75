package io.portcullis.policy.config;

import io.portcullis.policy.model.PolicyConfig;
import java.util.Objects;

/** A parsed configuration together with where each of its parts was written. */
public record LocatedConfig(PolicyConfig config, SourceMap sourceMap) {
  public LocatedConfig {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(sourceMap, "sourceMap");
  }
}

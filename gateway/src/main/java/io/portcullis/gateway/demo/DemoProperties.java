package io.portcullis.gateway.demo;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param enabled seed the demo datasets, apps and grants and print the tour banner; unset means "on exactly when the
 *                database is the embedded default"
 */
@ConfigurationProperties("portcullis.demo")
public record DemoProperties(@Nullable Boolean enabled) {

  public boolean enabledFor(boolean embeddedDatabase) {
    return enabled == null ? embeddedDatabase : enabled;
  }
}

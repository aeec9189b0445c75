package io.portcullis.policy.model;

import java.util.Locale;

/**
 * What a custom policy block does when it applies and its condition holds: {@code deny} the request, {@code mask}
 * columns, or AND a {@code row_filter}.
 */
public enum Effect {
  DENY,
  MASK,
  ROW_FILTER;

  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}

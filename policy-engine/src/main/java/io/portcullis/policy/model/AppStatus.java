package io.portcullis.policy.model;

/** Lifecycle of an app (DESIGN.md §2); YAML spells them {@code active}, {@code paused}, {@code retired}. */
public enum AppStatus {
  ACTIVE,
  PAUSED,
  RETIRED;

  public String yamlName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}

package io.portcullis.policy.model;

import java.util.Objects;
import java.util.Set;

/**
 * Engine-wide switches: built-in blocks to turn off, and {@code piiMode} ({@code mask}: pii without consent is
 * redacted; {@code deny}: the request is denied with {@code consent_missing}).
 */
public record Settings(Set<String> disabledBuiltins, String piiMode) {
  public static final Settings DEFAULT = new Settings(Set.of(), "mask");

  public Settings {
    disabledBuiltins = Set.copyOf(disabledBuiltins);
    Objects.requireNonNull(piiMode, "piiMode");
  }
}

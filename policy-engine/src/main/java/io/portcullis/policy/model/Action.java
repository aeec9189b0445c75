package io.portcullis.policy.model;

import java.util.Locale;

/** What an app does to a dataset; a scope is {@code dataset + ":" + scopeSuffix()}. */
public enum Action {
  READ,
  CREATE,
  UPDATE,
  DELETE;

  private final String suffix = name().toLowerCase(Locale.ROOT);

  public String scopeSuffix() {
    return suffix;
  }
}

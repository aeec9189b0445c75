package io.portcullis.policy.model;

import java.util.Locale;

/** Dataset templates from the platform catalogue (DESIGN.md §2). */
public enum Template {
  FORM_SUBMISSION,
  DIRECTORY,
  APPROVAL_QUEUE,
  CUSTOM;

  /** The YAML spelling: {@code form-submission}, {@code directory}, {@code approval-queue}, {@code custom}. */
  public String yamlName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether the template lets anyone perform {@code action} at all (form submissions are append-only). */
  public boolean permits(Action action) {
    return this != FORM_SUBMISSION || action == Action.READ || action == Action.CREATE;
  }
}

package io.portcullis.policy.config;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration that cannot be loaded or compiled; carries every issue found, not just the first. */
public final class PolicyConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<ConfigIssue> issues;

  public PolicyConfigException(List<ConfigIssue> issues) {
    super(summary(issues));
    if (issues.isEmpty()) {
      throw new IllegalArgumentException("issues: [] (expected: at least one)");
    }
    this.issues = List.copyOf(issues);
  }

  public List<ConfigIssue> issues() {
    return issues;
  }

  /** Every issue rendered with its caret, separated by blank lines. */
  public String render() {
    return issues.stream().map(ConfigIssue::render).collect(Collectors.joining("\n\n"));
  }

  private static String summary(List<ConfigIssue> issues) {
    if (issues.isEmpty()) {
      return "invalid configuration";
    }
    ConfigIssue first = issues.get(0);
    String more = issues.size() > 1 ? " (and " + (issues.size() - 1) + " more)" : "";
    return first.source() + ":" + first.line() + ":" + first.column() + ": " + first.path() + ": " + first.message()
        + more;
  }
}

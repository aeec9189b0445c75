package io.portcullis.policy.config;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One problem found in a configuration, pinned to {@code source:line:col} (1-based; 0 when unknown, e.g. for a
 * config that did not come from a file) and to the model path ({@code grants[2].row_filter}).
 *
 * @param lineText the offending source line, for {@link #render()}'s caret; {@code null} when unknown
 */
public record ConfigIssue(
    String source, int line, int column, String path, String message, @Nullable String lineText) {

  public ConfigIssue {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(message, "message");
  }

  public ConfigIssue(String source, int line, int column, String path, String message) {
    this(source, line, column, path, message, null);
  }

  /** {@code source:line:col: path: message}, then the offending line and a caret under the column. */
  public String render() {
    StringBuilder sb = new StringBuilder();
    sb.append(source).append(':').append(line).append(':').append(column).append(": ");
    if (!path.isEmpty()) {
      sb.append(path).append(": ");
    }
    sb.append(message);
    if (lineText != null && line > 0) {
      sb.append('\n').append(" | ").append(lineText).append('\n').append(" | ");
      // tabs are kept so the caret lines up under tab-indented text too
      for (int i = 0; i < column - 1 && i < lineText.length(); i++) {
        sb.append(lineText.charAt(i) == '\t' ? '\t' : ' ');
      }
      for (int i = lineText.length(); i < column - 1; i++) {
        sb.append(' ');
      }
      sb.append('^');
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return render();
  }
}

package io.portcullis.policy.config;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where each model path ({@code grants[2].row_filter}) sits in the YAML source, so the compiler can report its own
 * issues (unknown references, CEL errors) at the right line and column. For a CEL string the recorded column is that
 * of the first character of the expression itself (after any quote).
 */
public final class SourceMap {
  /** For configs that did not come from text (e.g. built in code): issues carry the path only. */
  public static final SourceMap NONE = new SourceMap("<config>", List.of(), Map.of(), Map.of());

  private final String source;
  private final List<String> lines;
  private final Map<String, int[]> positions;
  private final Map<String, Boolean> blockScalars;

  SourceMap(String source, List<String> lines, Map<String, int[]> positions, Map<String, Boolean> blockScalars) {
    this.source = source;
    this.lines = List.copyOf(lines);
    this.positions = Map.copyOf(positions);
    this.blockScalars = Map.copyOf(blockScalars);
  }

  public String source() {
    return source;
  }

  /** An issue at {@code path}, or at its closest recorded ancestor. */
  public ConfigIssue issue(String path, String message) {
    int[] pos = find(path);
    return at(pos == null ? 0 : pos[0], pos == null ? 0 : pos[1], path, message);
  }

  /**
   * An issue inside the expression string at {@code path}: {@code exprLine}/{@code exprColumn} are 1-based within the
   * expression text.
   */
  public ConfigIssue issueInExpression(String path, int exprLine, int exprColumn, String message) {
    int[] pos = positions.get(path);
    if (pos == null) {
      return issue(path, message);
    }
    if (Boolean.TRUE.equals(blockScalars.get(path))) {
      // a block scalar (| or >): its text starts on the next line, indented by the first content line's indent
      int line = pos[0] + exprLine;
      String first = lineText(pos[0] + 1);
      int indent = 0;
      while (first != null && indent < first.length() && first.charAt(indent) == ' ') {
        indent++;
      }
      return at(line, indent + exprColumn, path, message);
    }
    if (exprLine <= 1) {
      return at(pos[0], pos[1] + exprColumn - 1, path, message);
    }
    return at(pos[0] + exprLine - 1, exprColumn, path, message);
  }

  private int @Nullable [] find(String path) {
    String p = path;
    while (true) {
      int[] pos = positions.get(p);
      if (pos != null) {
        return pos;
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) {
        return null;
      }
      p = p.substring(0, cut);
    }
  }

  private ConfigIssue at(int line, int column, String path, String message) {
    return new ConfigIssue(source, line, column, path, message, lineText(line));
  }

  private @Nullable String lineText(int line) {
    return line >= 1 && line <= lines.size() ? lines.get(line - 1) : null;
  }
}

package io.portcullis.policy.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A YAML document as a tree that remembers where every node and key was written. Jackson's data binding would lose
 * token locations, and config errors must point at the offending line and column, so the tree is built from the
 * streaming parser.
 */
final class YamlTree {
  /**
   * The YAML parser refuses documents over 3 MiB by default, which a fleet config reaches at roughly 50,000 grants
   * (one grant is about 50 bytes of YAML). The limit is a guard against hostile input, so it is raised to a bound a
   * real fleet will not reach rather than removed; the admin API caps request bodies before they get here.
   */
  static final int MAX_CODE_POINTS = 64 * 1024 * 1024;

  private static final YAMLMapper MAPPER = YAMLMapper.builder(YAMLFactory.builder()
          .loadSettings(LoadSettings.builder().setCodePointLimit(MAX_CODE_POINTS).build())
          .build())
      .build();

  sealed interface Node permits MapNode, ListNode, Scalar {
    int line();

    int column();
  }

  record Key(String name, int line, int column) {}

  record MapNode(int line, int column, Map<String, Node> entries, Map<String, Key> keys) implements Node {}

  record ListNode(int line, int column, List<Node> items) implements Node {}

  /** {@code text} is null for YAML null; {@code kind} is the Jackson scalar token (string, int, float, bool, null). */
  record Scalar(int line, int column, JsonToken kind, @Nullable String text) implements Node {}

  /** A duplicate key or a syntax error found while building the tree. */
  record Problem(int line, int column, String message) {}

  private YamlTree() {}

  /** Parses {@code yaml}; returns null root (and a problem) when the text is not YAML at all. */
  static @Nullable Node parse(String yaml, List<Problem> problems) {
    try (JsonParser p = MAPPER.createParser(yaml)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return null;
      }
      return read(p, t, problems);
    } catch (StreamReadException e) {
      TokenStreamLocation loc = e.getLocation();
      int line = loc == null ? 0 : loc.getLineNr();
      int col = loc == null ? 0 : loc.getColumnNr();
      problems.add(new Problem(line, col, "YAML syntax: " + firstLine(e.getOriginalMessage())));
      return null;
    } catch (JacksonException e) {
      problems.add(new Problem(0, 0, "YAML: " + firstLine(e.getOriginalMessage())));
      return null;
    }
  }

  private static Node read(JsonParser p, JsonToken t, List<Problem> problems) {
    TokenStreamLocation loc = p.currentTokenLocation();
    int line = loc.getLineNr();
    int col = loc.getColumnNr();
    switch (t) {
      case START_OBJECT -> {
        Map<String, Node> entries = new LinkedHashMap<>();
        Map<String, Key> keys = new LinkedHashMap<>();
        JsonToken k;
        while ((k = p.nextToken()) == JsonToken.PROPERTY_NAME) {
          TokenStreamLocation kl = p.currentTokenLocation();
          String name = p.currentName();
          Node value = read(p, p.nextToken(), problems);
          if (entries.containsKey(name)) {
            problems.add(new Problem(kl.getLineNr(), kl.getColumnNr(), "duplicate key '" + name + "'"));
          }
          entries.put(name, value);
          keys.put(name, new Key(name, kl.getLineNr(), kl.getColumnNr()));
        }
        return new MapNode(line, col, entries, keys);
      }
      case START_ARRAY -> {
        List<Node> items = new ArrayList<>();
        JsonToken i;
        while ((i = p.nextToken()) != JsonToken.END_ARRAY && i != null) {
          items.add(read(p, i, problems));
        }
        return new ListNode(line, col, items);
      }
      case VALUE_NULL -> {
        return new Scalar(line, col, t, null);
      }
      default -> {
        return new Scalar(line, col, t, p.getString());
      }
    }
  }

  /** SnakeYAML's message without its own snippets and positions (ours are rendered by ConfigIssue). */
  private static String firstLine(@Nullable String message) {
    if (message == null) {
      return "unreadable document";
    }
    List<String> parts = new ArrayList<>();
    for (String line : message.split("\n")) {
      if (!line.isBlank() && !line.startsWith(" ")) {
        parts.add(line.trim());
      }
    }
    return parts.isEmpty() ? message.trim() : String.join("; ", parts);
  }
}

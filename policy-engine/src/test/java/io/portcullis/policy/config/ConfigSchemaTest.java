package io.portcullis.policy.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The editor schema and the loader agree: the sample config and the writer's output validate, and a key the loader
 * rejects is rejected by the schema too. A minimal validator for the keywords the schema uses keeps Jackson 2 (which
 * the usual validators pull in) out of this module.
 */
class ConfigSchemaTest {
  static final JsonNode SCHEMA = JsonMapper.builder().build()
      .readTree(ConfigSchemaTest.class.getResourceAsStream("/portcullis-config.schema.json"));

  static List<String> validate(String yaml) {
    List<String> errors = new ArrayList<>();
    check(YAMLMapper.builder().build().readTree(yaml), SCHEMA, "$", errors);
    return errors;
  }

  @Test
  void sampleConfigValidates() throws Exception {
    assertThat(validate(Files.readString(Path.of("examples/portcullis.yaml")))).isEmpty();
  }

  @Test
  void writerOutputValidates() throws Exception {
    String yaml = PolicyConfigWriter.toYaml(PolicyConfigLoader.load(Path.of("examples/portcullis.yaml")));
    assertThat(validate(yaml)).isEmpty();
  }

  @Test
  void schemaRejectsWhatTheLoaderRejects() {
    assertThat(validate("apps: [{id: a, tierr: 1}]")).containsExactly("$.apps[0]: unknown property tierr");
    assertThat(validate("apps: [{id: a, tier: 5}]")).containsExactly("$.apps[0].tier: 5 > maximum 2");
    assertThat(validate("grants: [{app: a, dataset: d, columns: {masks: {x: scramble}}}]")).hasSize(1);
    assertThat(validate("datasets: [{name: d, source: {table: t}, columns: [{name: x, type: varchar}]}]"))
        .hasSize(1);
  }

  private static void check(JsonNode v, JsonNode s, String at, List<String> errors) {
    if (s.has("$ref")) {
      String ref = s.get("$ref").asString().substring("#/$defs/".length());
      check(v, SCHEMA.get("$defs").get(ref), at, errors);
      return;
    }
    if (s.has("oneOf")) {
      int ok = 0;
      for (JsonNode alt : s.get("oneOf")) {
        List<String> e = new ArrayList<>();
        check(v, alt, at, e);
        ok += e.isEmpty() ? 1 : 0;
      }
      if (ok != 1) {
        errors.add(at + ": matches " + ok + " of oneOf");
      }
      return;
    }
    if (s.has("enum")) {
      boolean found = false;
      for (JsonNode e : s.get("enum")) {
        found |= e.asString().equals(v.asString()) && e.getNodeType() == v.getNodeType();
      }
      if (!found) {
        errors.add(at + ": " + v + " not in enum");
      }
    }
    if (s.has("const") && !s.get("const").equals(v)) {
      errors.add(at + ": " + v + " is not " + s.get("const"));
    }
    String type = s.has("type") ? s.get("type").asString() : null;
    if (type != null && !hasType(v, type)) {
      errors.add(at + ": " + v.getNodeType() + " is not " + type);
      return;
    }
    if (s.has("pattern") && v.isString() && !Pattern.compile(s.get("pattern").asString()).matcher(v.asString()).find()) {
      errors.add(at + ": '" + v.asString() + "' does not match " + s.get("pattern").asString());
    }
    if (s.has("minimum") && v.isNumber() && v.asDouble() < s.get("minimum").asDouble()) {
      errors.add(at + ": " + v + " < minimum " + s.get("minimum"));
    }
    if (s.has("maximum") && v.isNumber() && v.asDouble() > s.get("maximum").asDouble()) {
      errors.add(at + ": " + v + " > maximum " + s.get("maximum"));
    }
    if (v.isObject()) {
      JsonNode props = s.get("properties");
      for (Map.Entry<String, JsonNode> e : v.properties()) {
        JsonNode ps = props == null ? null : props.get(e.getKey());
        JsonNode ap = s.get("additionalProperties");
        if (ps != null) {
          check(e.getValue(), ps, at + "." + e.getKey(), errors);
        } else if (ap != null && ap.isBoolean() && !ap.asBoolean()) {
          errors.add(at + ": unknown property " + e.getKey());
        } else if (ap != null && ap.isObject()) {
          check(e.getValue(), ap, at + "." + e.getKey(), errors);
        }
      }
      if (s.has("required")) {
        for (JsonNode r : s.get("required")) {
          if (!v.has(r.asString())) {
            errors.add(at + ": missing " + r.asString());
          }
        }
      }
    }
    if (v.isArray() && s.has("items")) {
      for (int i = 0; i < v.size(); i++) {
        check(v.get(i), s.get("items"), at + "[" + i + "]", errors);
      }
    }
  }

  private static boolean hasType(JsonNode v, String type) {
    return switch (type) {
      case "object" -> v.isObject();
      case "array" -> v.isArray();
      case "string" -> v.isString();
      case "integer" -> v.isIntegralNumber();
      case "number" -> v.isNumber();
      case "boolean" -> v.isBoolean();
      default -> true;
    };
  }
}

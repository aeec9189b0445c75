package io.portcullis.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.PolicyConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The per-entity diff and the four-eyes rule on the policy engine's example config (no server). */
class ConfigDiffTest {

  static final PolicyConfig EXAMPLE = load();

  static PolicyConfig load() {
    try {
      return PolicyConfigLoader.load(Path.of("../policy-engine/examples/portcullis.yaml"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The example with one edit applied to its tree, parsed back through the loader. */
  @SuppressWarnings("unchecked")
  static PolicyConfig edited(Consumer<Map<String, Object>> edit) {
    Map<String, Object> tree = ConfigChanges.JSON.convertValue(PolicyConfigWriter.toTree(EXAMPLE), LinkedHashMap.class);
    edit.accept(tree);
    try {
      return PolicyConfigLoader.parse(PolicyConfigWriter.toYaml(tree), "edited");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> entity(Map<String, Object> tree, String collection, String id) {
    return ((List<Map<String, Object>>) tree.get(collection)).stream()
        .filter(m -> id.equals(m.get("id")) || id.equals(m.get("name"))).findFirst().orElseThrow();
  }

  @SuppressWarnings("unchecked")
  static void add(Map<String, Object> tree, String collection, Map<String, Object> entity) {
    List<Object> list = new ArrayList<>((List<Object>) tree.get(collection));
    list.add(entity);
    tree.put(collection, list);
  }

  @Test
  @SuppressWarnings("unchecked")
  void reorderingEntitiesIsNoChange() {
    PolicyConfig reordered = edited(t -> {
      List<Object> apps = new ArrayList<>((List<Object>) t.get("apps"));
      Collections.reverse(apps);
      t.put("apps", apps);
    });
    ConfigDiff diff = ConfigDiff.between(EXAMPLE, reordered);
    assertThat(diff.isEmpty()).isTrue();
    assertThat(diff.summary()).isEqualTo("no change");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aChangedEntityNamesEachChangedFieldWithBothValues() {
    ConfigDiff diff = ConfigDiff.between(EXAMPLE, edited(t -> {
      entity(t, "apps", "hackday-bot").put("tier", 1);
      entity(t, "grants", "expense-items-read").put("row_filter", "row.team_id == token.attrs.team_id");
      add(t, "routes", Map.of("id", "crm", "path_prefix", "/crm", "uri", "http://crm.internal", "timeout", "2s"));
      ((List<Object>) t.get("policies")).removeIf(p -> "no-weekend-writes".equals(((Map<String, Object>) p).get("id")));
    }));
    assertThat(diff.summary()).isEqualTo("apps: 1 changed; grants: 1 changed; policies: 1 removed; routes: 1 added");
    Map<String, Object> json = diff.toJson();
    List<Map<String, Object>> changes = (List<Map<String, Object>>) json.get("changes");
    assertThat(changes).extracting(c -> c.get("kind") + ":" + c.get("id") + ":" + c.get("op"))
        .containsExactly("app:hackday-bot:changed", "grant:expense-items-read:changed",
            "policy:no-weekend-writes:removed", "route:crm:added");
    assertThat((List<Map<String, Object>>) changes.get(0).get("fields")).containsExactly(
        Map.of("field", "tier", "before", 0, "after", 1));
    assertThat(changes.get(2)).containsKey("before").doesNotContainKey("after");
    assertThat(changes.get(3)).containsKey("after").doesNotContainKey("before");
  }

  @Test
  void oneAdminMayChangeLowTierAppsAndUnregulatedData() {
    PolicyConfig after = edited(t -> {
      entity(t, "grants", "bot-items").put("columns", Map.of("deny", List.of("price")));
      entity(t, "routes", "stock-api").put("timeout", "9s");
      add(t, "policies", Map.of("id", "sandbox-only", "effect", "deny", "condition", "request.method == 'DELETE'",
          "applies_to", Map.of("tiers", List.of(0), "datasets", List.of("inventory.items"))));
    });
    ConfigDiff diff = ConfigDiff.between(EXAMPLE, after);
    assertThat(diff.summary()).isEqualTo("grants: 1 changed; policies: 1 added; routes: 1 changed");
    assertThat(FourEyesRule.reasons(EXAMPLE, after, diff)).isEmpty();
  }

  @Test
  void tier2AppsAndPiiOrRegulatedDataNeedASecondAdminOnEitherSideOfTheChange() {
    assertThat(reasons(t -> entity(t, "grants", "bot-people").put("columns", Map.of("deny", List.of("phone")))))
        .containsExactly("grant bot-people is on regulated/pii dataset hr.people");
    assertThat(reasons(t -> entity(t, "apps", "hackday-bot").put("tier", 2)))
        .containsExactly("app hackday-bot is tier 2");
    assertThat(reasons(t -> entity(t, "apps", "team-directory").put("tier", 1)))
        .containsExactly("app team-directory is tier 2");
    assertThat(reasons(t -> entity(t, "datasets", "finance.payroll").put("tags", List.of())))
        .containsExactly("dataset finance.payroll is regulated/pii");
    assertThat(reasons(t -> entity(t, "policies", "eu-residency").put("enabled", false)))
        .containsExactly("policy eu-residency can apply to tier-2 app team-directory");
    assertThat(reasons(t -> entity(t, "policies", "mask-email-for-tier1").put("masks", Map.of("email", "redact"))))
        .containsExactly("policy mask-email-for-tier1 can apply to regulated/pii dataset hr.people");
    assertThat(reasons(t -> ((Map<String, Object>) t.get("settings")).put("pii_mode", "deny")))
        .containsExactly("engine-wide settings change");
  }

  static List<String> reasons(Consumer<Map<String, Object>> edit) {
    PolicyConfig after = edited(edit);
    return FourEyesRule.reasons(EXAMPLE, after, ConfigDiff.between(EXAMPLE, after));
  }
}

package io.portcullis.policy;

import static io.portcullis.policy.Fixtures.request;
import static io.portcullis.policy.Fixtures.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.model.Action;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PolicyBlocksTest {
  static final String BASE = """
      apps:
        - {id: a, tier: 1}
        - {id: b, tier: 2}
      datasets:
        - name: d
          tags: [sandbox, sensitive]
          source: {table: d}
          columns:
            - {name: id, type: bigint}
            - {name: email, type: text, tags: [contact]}
            - {name: region, type: text}
            - {name: salary, type: numeric}
      grants:
        - {id: ga, app: a, dataset: d}
        - {id: gb, app: b, dataset: d, columns: {masks: {salary: hash}}}
      """;

  static Decision decide(PolicySnapshot s, String app, Map<String, Object> attrs) {
    return s.decide(request(token(app, Set.of("d:read"), attrs), "d", Action.READ));
  }

  @Test
  void conditionalMaskBlockAppliesOnlyWhenItsConditionHolds() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + """
        policies:
          - id: mask-contacts-for-contractors
            condition: token.attrs.contractor == true
            masks: {"tag:contact": redact, salary: drop}
        """);
    Decision employee = decide(s, "a", Map.of("contractor", false));
    assertThat(employee.columns().maskedColumns()).isEmpty();
    assertThat(employee.policyIds()).containsExactly("ga");
    Decision contractor = decide(s, "a", Map.of("contractor", true));
    assertThat(contractor.columns().maskedColumns()).containsExactly("email");
    assertThat(contractor.columns().hiddenColumns()).containsExactly("salary");
    assertThat(contractor.policyIds()).containsExactly("ga", "mask-contacts-for-contractors");
    // a missing attribute errors: the mask applies (fail closed)
    assertThat(decide(s, "a", Map.of()).columns().hiddenColumns()).containsExactly("salary");
  }

  @Test
  void mostRestrictiveMaskWinsBetweenGrantAndBlock() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + """
        policies:
          - {id: round-salaries, masks: {salary: "round:-1"}, enabled: false}
          - {id: redact-salaries, applies_to: {tiers: [2]}, masks: {salary: redact}}
          - {id: last4-salaries, applies_to: {tiers: [2]}, masks: {salary: last4}}
        """.replace("round:-1", "round:0"));
    Decision d = decide(s, "b", Map.of());
    assertThat(d.columns().column("salary").mask().spec()).isEqualTo("redact");
    assertThat(d.policyIds()).containsExactly("gb", "redact-salaries");
    assertThat(decide(s, "a", Map.of()).columns().column("salary").mask()).isNull();
  }

  @Test
  void conditionalRowFilterBlockIsGatedByABooleanParameter() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + """
        policies:
          - id: tier1-own-region
            applies_to: {tiers: [1]}
            condition: "!('global:read' in token.scope)"
            row_filter: row.region == token.attrs.region
        """);
    Decision d = decide(s, "a", Map.of("region", "eu"));
    assertThat(d.rowFilter().sql()).isEqualTo("((NOT $1::boolean) OR (\"region\" = $2::text))");
    assertThat(d.rowFilter().params()).containsExactly(true, "eu");
    assertThat(d.rowFilter().test(Map.of("region", "us")::get)).isFalse();
    assertThat(d.policyIds()).containsExactly("ga", "tier1-own-region");
    Decision global = s.decide(request(token("a", Set.of("d:read", "global:read"), Map.of("region", "eu")), "d",
        Action.READ));
    assertThat(global.rowFilter().params()).containsExactly(false, "eu");
    assertThat(global.rowFilter().test(Map.of("region", "us")::get)).isTrue();
    assertThat(decide(s, "b", Map.of()).rowFilter().isEmpty()).isTrue();
  }

  @Test
  void residencyBlockCanReplaceTheRuleWithItsOwnCondition() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE + """
        policies:
          - id: eu-only
            builtin: residency
            applies_to: {tags: [sensitive]}
            condition: "!(token.attrs.region in ['eu', 'ch'])"
        """);
    assertThat(decide(s, "a", Map.of("region", "ch")).allowed()).isTrue();
    Decision us = decide(s, "a", Map.of("region", "us"));
    assertThat(us.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(us.policyIds()).containsExactly("ga", "eu-only");
  }

  @Test
  void celFallbackSeesRequestTime() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE.replace("{id: ga, app: a, dataset: d}",
        "{id: ga, app: a, dataset: d, condition: \"request.time < timestamp('2027-01-01T00:00:00Z')"
            + " && token.tier == 1\"}"));
    assertThat(s.conditionEngines()).containsEntry("grants[0].condition", "cel");
    TokenClaims t = token("a", Set.of("d:read"), Map.of());
    assertThat(s.decide(new DecisionRequest(t, "d", Action.READ, "GET", "/", "ip", Instant.parse(
        "2026-06-01T00:00:00Z"))).allowed()).isTrue();
    assertThat(s.decide(new DecisionRequest(t, "d", Action.READ, "GET", "/", "ip", Instant.parse(
        "2027-06-01T00:00:00Z"))).allowed()).isFalse();
  }

  @Test
  void javaConditionsFollowCelSemantics() throws Exception {
    PolicySnapshot s = Fixtures.compile(BASE.replace("{id: ga, app: a, dataset: d}",
        "{id: ga, app: a, dataset: d, condition: \"token.attrs.level >= 2 || token.attrs.vip == true\"}"));
    assertThat(s.conditionEngines()).containsEntry("grants[0].condition", "java");
    assertThat(decide(s, "a", Map.of("level", 3)).allowed()).isTrue();
    assertThat(decide(s, "a", Map.of("level", 2.5)).allowed()).isTrue();
    assertThat(decide(s, "a", Map.of("level", 1)).allowed()).isFalse();
    // error || true = true, as in CEL
    assertThat(decide(s, "a", Map.of("vip", true)).allowed()).isTrue();
    // error || false = error: not satisfied
    assertThat(decide(s, "a", Map.of("vip", false)).allowed()).isFalse();
    assertThat(decide(s, "a", Map.of("level", "high")).allowed()).isFalse();
  }

  @Test
  void decideIsSafeUnderConcurrency() throws Exception {
    PolicySnapshot s = Fixtures.example();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(pool.submit(() -> {
          for (int k = 0; k < 5_000; k++) {
            String team = "t" + (k % 7);
            Decision d = s.decide(request(token("expense-tracker", Set.of("inventory.items:read"),
                Map.of("team_id", team, "region", "eu")), "inventory.items", Action.READ));
            if (!d.allowed() || !team.equals(d.rowFilter().params()[0])) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdown();
    }
  }
}

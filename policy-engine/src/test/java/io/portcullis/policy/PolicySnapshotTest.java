package io.portcullis.policy;

import static io.portcullis.policy.Fixtures.request;
import static io.portcullis.policy.Fixtures.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.model.Action;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PolicySnapshotTest {
  static PolicySnapshot snap;

  @BeforeAll
  static void compile() throws Exception {
    snap = Fixtures.example();
  }

  @Test
  void allowsGrantedReadAndBindsRowFilter() {
    TokenClaims t = token("expense-tracker", Set.of("inventory.items:read"), Map.of("team_id", "t1", "region", "eu"));
    Decision d = snap.decide(request(t, "inventory.items", Action.READ));
    assertThat(d.allowed()).as(d.reason()).isTrue();
    assertThat(d.configVersion()).isEqualTo(7);
    assertThat(d.costWeight()).isEqualTo(0.5);
    assertThat(d.policyIds()).containsExactly("expense-items-read", "eu-residency");
    assertThat(d.rowFilter().sql()).isEqualTo(
        "(((\"team_id\" = $1::text) OR $2::boolean) AND (\"region\" = $3::text))");
    assertThat(d.rowFilter().params()).containsExactly("t1", false, "eu");
    assertThat(d.rowFilter().fingerprint()).hasSize(16);
    assertThat(d.columns().maskedColumns()).containsExactly("price");
    assertThat(d.columns().column("price").mask().apply(new java.math.BigDecimal("12.60")))
        .isEqualTo(new java.math.BigDecimal("13"));
  }

  @Test
  void rowFilterTwinSelectsTheSameRowsAsItsSql() {
    TokenClaims t = token("expense-tracker", Set.of("inventory.items:read"), Map.of("team_id", "t1", "region", "eu"));
    BoundRowFilter f = snap.decide(request(t, "inventory.items", Action.READ)).rowFilter();
    assertThat(f.test(row("team_id", "t1", "region", "eu"))).isTrue();
    assertThat(f.test(row("team_id", "t2", "region", "eu"))).isFalse();
    assertThat(f.test(row("team_id", "t1", "region", "us"))).isFalse();
    assertThat(f.test(row("team_id", null, "region", "eu"))).isFalse();
  }

  @Test
  void adminReadScopeLiftsTheTeamFilterThroughABooleanParameter() {
    TokenClaims t = token("expense-tracker", Set.of("inventory.items:read", "admin:read"), Map.of("region", "eu"));
    Decision d = snap.decide(request(t, "inventory.items", Action.READ));
    assertThat(d.rowFilter().params()).containsExactly(null, true, "eu");
    assertThat(d.rowFilter().test(row("team_id", "anyone", "region", "eu"))).isTrue();
  }

  @Test
  void deniesUnknownDataset() {
    Decision d = snap.decide(request(token("expense-tracker", Set.of(), Map.of()), "nope", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.UNKNOWN_DATASET);
    assertThat(d.denyCode().httpStatus()).isEqualTo(404);
  }

  @Test
  void deniesPausedApp() {
    Decision d = snap.decide(request(token("old-report", Set.of("inventory.items:read"), Map.of()),
        "inventory.items", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.APP_PAUSED);
    assertThat(d.denyCode().code()).isEqualTo("app_paused");
  }

  @Test
  void deniesMissingScope() {
    Decision d = snap.decide(request(token("expense-tracker", Set.of("hr.people:read"), Map.of()),
        "inventory.items", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.SCOPE_MISSING);
    assertThat(d.reason()).contains("inventory.items:read");
  }

  @Test
  void deniesWithoutGrant() {
    Decision d = snap.decide(request(token("expense-tracker", Set.of("inventory.items:update"), Map.of()),
        "inventory.items", Action.UPDATE));
    assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(d.reason()).startsWith("no grant");
  }

  @Test
  void deniesWhenGrantConditionIsFalse() {
    TokenClaims t = token("team-directory", Set.of("hr.people:update"), Map.of("owner_id", "u1"));
    DecisionRequest r = new DecisionRequest(t, "hr.people", Action.UPDATE, "DELETE", "/x", "1.1.1.1", Fixtures.NOW);
    Decision d = snap.decide(r);
    assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(d.policyIds()).containsExactly("directory-people");
  }

  @Test
  void scopesOwnerOfDirectoryRowsToTheToken() {
    TokenClaims t = token("team-directory", Set.of("hr.people:read"), Map.of("owner_id", "u1"));
    Decision d = snap.decide(request(t, "hr.people", Action.READ));
    assertThat(d.allowed()).as(d.reason()).isTrue();
    assertThat(d.policyIds()).contains("owner-scoped-read", "admin-read", "pii-needs-consent");
    assertThat(d.rowFilter().sql()).isEqualTo("((\"owner_id\" = $1::text) OR $2::boolean)");
    assertThat(d.rowFilter().test(row("owner_id", "u1"))).isTrue();
    assertThat(d.rowFilter().test(row("owner_id", "u2"))).isFalse();
  }

  @Test
  void deniesRowsOfOtherOwnersWhenTokenHasNoOwnerId() {
    TokenClaims t = token("team-directory", Set.of("hr.people:read"), Map.of());
    Decision d = snap.decide(request(t, "hr.people", Action.READ));
    assertThat(d.rowFilter().params()).containsExactly(null, false);
    assertThat(d.rowFilter().test(row("owner_id", "u1"))).isFalse();
  }

  @Test
  void adminReadDoesNotLiftOwnerScopingOnUpdate() {
    TokenClaims t = token("team-directory", Set.of("hr.people:update", "admin:read"),
        Map.of("owner_id", "u1", "weekend", false));
    Decision d = snap.decide(request(t, "hr.people", Action.UPDATE));
    assertThat(d.allowed()).isTrue();
    assertThat(d.rowFilter().sql()).isEqualTo("(\"owner_id\" = $1::text)");
  }

  @Test
  void redactsPiiWithoutConsent() {
    TokenClaims t = token("team-directory", Set.of("hr.people:read"), Map.of("owner_id", "u1"));
    ColumnPlan p = snap.decide(request(t, "hr.people", Action.READ)).columns();
    assertThat(p.maskedColumns()).containsExactly("full_name", "email", "phone", "birth_date");
    assertThat(p.maskedList()).isEqualTo("full_name, email, phone, birth_date");
    assertThat(p.column("email").mask().spec()).isEqualTo("redact");
  }

  @Test
  void consentKeepsPiiButGrantMasksAndBlocksStillApply() {
    TokenClaims t = token("expense-tracker", Set.of("hr.people:read"), Map.of("owner_id", "u1"));
    Decision d = snap.decide(request(t, "hr.people", Action.READ));
    ColumnPlan p = d.columns();
    assertThat(p.hiddenColumns()).containsExactly("birth_date");
    assertThat(p.column("birth_date")).isNull();
    assertThat(p.column("phone").mask().apply("0612345678")).isEqualTo("****5678");
    // tier-1 block masks email to its domain; no pii redaction because the app consents
    assertThat(p.column("email").mask().apply("jo@corp.com")).isEqualTo("****@corp.com");
    assertThat(p.column("full_name").mask()).isNull();
    assertThat(d.policyIds()).contains("mask-email-for-tier1").doesNotContain("pii-needs-consent");
  }

  @Test
  void deniesRegulatedDatasetWithoutApprovalAndAllowsWithIt() throws Exception {
    TokenClaims t = token("team-directory", Set.of("finance.payroll:read"), Map.of());
    assertThat(snap.decide(request(t, "finance.payroll", Action.READ)).allowed()).isTrue();
    String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("examples/portcullis.yaml"))
        .replace("    approval: {by: erin@corp.com, at: \"2026-03-01T09:00:00Z\", reason: \"Quarterly headcount report (TICKET-42)\"}\n", "");
    Decision d = Fixtures.compile(yaml).decide(request(t, "finance.payroll", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.APPROVAL_MISSING);
    assertThat(d.policyIds()).containsExactly("directory-payroll", "regulated-needs-approval");
  }

  @Test
  void tier0AppReachesOnlySandboxData() {
    TokenClaims t = token("hackday-bot", Set.of("hr.people:read", "inventory.items:read"), Map.of("region", "eu"));
    Decision people = snap.decide(request(t, "hr.people", Action.READ));
    assertThat(people.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(people.policyIds()).containsExactly("bot-people", "tier0-sandbox-only");
    assertThat(snap.decide(request(t, "inventory.items", Action.READ)).allowed()).isTrue();
  }

  @Test
  void customDenyBlockNamesItself() {
    TokenClaims t = token("team-directory", Set.of("hr.people:update"), Map.of("owner_id", "u1", "weekend", true));
    Decision d = snap.decide(request(t, "hr.people", Action.UPDATE));
    assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(d.policyIds()).containsExactly("directory-people", "no-weekend-writes");
    assertThat(d.reason()).contains("Nobody edits the directory at weekends.");
  }

  @Test
  void customDenyBlockFailsClosedOnMissingAttribute() {
    // weekend missing: CEL would error on the missing key; deny blocks treat an error as a match
    TokenClaims t = token("team-directory", Set.of("hr.people:update"), Map.of("owner_id", "u1"));
    assertThat(snap.decide(request(t, "hr.people", Action.UPDATE)).denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
  }

  @Test
  void piiDenyModeDeniesWithConsentMissing() throws Exception {
    String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("examples/portcullis.yaml"))
        .replace("pii_mode: mask", "pii_mode: deny");
    TokenClaims t = token("team-directory", Set.of("hr.people:read"), Map.of("owner_id", "u1"));
    Decision d = Fixtures.compile(yaml).decide(request(t, "hr.people", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.CONSENT_MISSING);
  }

  @Test
  void disabledBuiltinsDoNotApply() throws Exception {
    String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("examples/portcullis.yaml"))
        .replace("disabled_builtins: []", "disabled_builtins: [owner-scoped-read, pii-needs-consent]");
    TokenClaims t = token("team-directory", Set.of("hr.people:read"), Map.of());
    Decision d = Fixtures.compile(yaml).decide(request(t, "hr.people", Action.READ));
    assertThat(d.rowFilter().isEmpty()).isTrue();
    assertThat(d.columns().maskedColumns()).isEmpty();
    assertThat(d.columns().maskedList()).isNull();
  }

  @Test
  void residencyDeniesTokensFromAnotherRegion() throws Exception {
    String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("examples/portcullis.yaml"))
        .replace("tags: [sandbox]", "tags: [sandbox, \"region:eu\"]");
    PolicySnapshot s = Fixtures.compile(yaml);
    Set<String> scopes = Set.of("inventory.items:read");
    TokenClaims us = token("expense-tracker", scopes, Map.of("region", "us", "team_id", "t"));
    TokenClaims eu = token("expense-tracker", scopes, Map.of("region", "eu", "team_id", "t"));
    TokenClaims none = token("expense-tracker", scopes, Map.of("team_id", "t"));
    Decision d = s.decide(request(us, "inventory.items", Action.READ));
    assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(d.policyIds()).containsExactly("expense-items-read", "eu-residency");
    assertThat(s.decide(request(none, "inventory.items", Action.READ)).denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(s.decide(request(eu, "inventory.items", Action.READ)).allowed()).isTrue();
  }

  @Test
  void methodNotAllowedForUpdatesOfFormSubmissions() throws Exception {
    PolicySnapshot s = Fixtures.compile("""
        apps: [{id: a}]
        datasets:
          - name: f
            template: form-submission
            source: {table: f}
            columns: [{name: id, type: bigint}]
        grants: [{app: a, dataset: f, actions: [read, create]}]
        """);
    Decision d = s.decide(request(token("a", Set.of("f:update"), Map.of()), "f", Action.UPDATE));
    assertThat(d.denyCode()).isEqualTo(DenyCode.METHOD_NOT_ALLOWED);
    assertThat(s.grantableScopes("a")).containsExactlyInAnyOrder("f:read", "f:create");
  }

  @Test
  void neverThrowsOnBadInput() {
    assertThat(snap.decide(null).denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(snap.decide(new DecisionRequest(null, "x", Action.READ, null, null, null, null)).allowed()).isFalse();
    TokenClaims t = token("ghost", Set.of("inventory.items:read"), Map.of());
    Decision d = snap.decide(new DecisionRequest(t, "inventory.items", Action.READ, null, null, null, null));
    assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
    assertThat(d.reason()).contains("unknown app");
  }

  @Test
  void reusesPrecomputedColumnPlanAcrossDecisions() {
    TokenClaims t = token("expense-tracker", Set.of("inventory.items:read"), Map.of("team_id", "t1"));
    assertThat(snap.decide(request(t, "inventory.items", Action.READ)).columns())
        .isSameAs(snap.decide(request(t, "inventory.items", Action.READ)).columns());
  }

  @Test
  void recordsWhichConditionsRunOnJavaAndWhichOnCel() throws Exception {
    assertThat(snap.conditionEngines()).containsEntry("grants[2].condition", "java")
        .containsEntry("policies[1].condition", "java");
    PolicySnapshot s = Fixtures.compile("""
        apps: [{id: a}]
        datasets: [{name: d, tags: [sandbox], source: {table: d}, columns: [{name: id, type: bigint}]}]
        grants:
          - {app: a, dataset: d, condition: "token.attrs.level.startsWith('gold') || size(token.scope) > 2"}
        """);
    assertThat(s.conditionEngines()).containsEntry("grants[0].condition", "cel");
    TokenClaims gold = token("a", Set.of("d:read"), Map.of("level", "gold-1"));
    TokenClaims silver = token("a", Set.of("d:read"), Map.of("level", "silver"));
    assertThat(s.decide(request(gold, "d", Action.READ)).allowed()).isTrue();
    assertThat(s.decide(request(silver, "d", Action.READ)).allowed()).isFalse();
  }

  @Test
  void appsAndDatasetsWhoseNamesCollideInHashKeepTheirOwnGrants() throws Exception {
    // "Aa" and "BB" have the same String.hashCode, so their (app, dataset, action) keys hash alike
    assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
    PolicySnapshot s = Fixtures.compile("""
        apps: [{id: Aa}, {id: BB}]
        datasets:
          - {name: Aa, tags: [sandbox], source: {table: a}, columns: [{name: id, type: bigint}]}
          - {name: BB, tags: [sandbox], source: {table: b}, columns: [{name: id, type: bigint}]}
        grants:
          - {id: aa-on-aa, app: Aa, dataset: Aa}
          - {id: bb-on-bb, app: BB, dataset: BB, actions: [read, update]}
        """);
    Set<String> all = Set.of("Aa:read", "BB:read", "Aa:update", "BB:update");
    assertThat(s.decide(request(token("Aa", all, Map.of()), "Aa", Action.READ)).policyIds()).containsExactly("aa-on-aa");
    assertThat(s.decide(request(token("BB", all, Map.of()), "BB", Action.READ)).policyIds()).containsExactly("bb-on-bb");
    assertThat(s.decide(request(token("BB", all, Map.of()), "BB", Action.UPDATE)).allowed()).isTrue();
    for (Decision d : java.util.List.of(
        s.decide(request(token("BB", all, Map.of()), "Aa", Action.READ)),
        s.decide(request(token("Aa", all, Map.of()), "BB", Action.READ)),
        s.decide(request(token("Aa", all, Map.of()), "Aa", Action.UPDATE)))) {
      assertThat(d.denyCode()).isEqualTo(DenyCode.POLICY_DENIED);
      assertThat(d.reason()).startsWith("no grant");
    }
  }

  @Test
  void pausedAppIsRefusedAsPausedBeforeScopeOrGrantAreLookedAt() throws Exception {
    PolicySnapshot s = Fixtures.compile("""
        apps: [{id: a, status: paused}]
        datasets:
          - {name: d, tags: [sandbox], source: {table: d}, columns: [{name: id, type: bigint}]}
          - {name: e, tags: [sandbox], source: {table: e}, columns: [{name: id, type: bigint}]}
        grants: [{id: g, app: a, dataset: d}]
        """);
    // granted dataset with and without its scope, and a dataset without a grant
    assertThat(s.decide(request(token("a", Set.of("d:read"), Map.of()), "d", Action.READ)).denyCode())
        .isEqualTo(DenyCode.APP_PAUSED);
    assertThat(s.decide(request(token("a", Set.of(), Map.of()), "d", Action.READ)).denyCode())
        .isEqualTo(DenyCode.APP_PAUSED);
    assertThat(s.decide(request(token("a", Set.of("e:read"), Map.of()), "e", Action.READ)).denyCode())
        .isEqualTo(DenyCode.APP_PAUSED);
  }

  @Test
  void missingScopeIsReportedWhetherOrNotAGrantExists() {
    Decision granted = snap.decide(request(token("expense-tracker", Set.of(), Map.of()), "inventory.items", Action.READ));
    Decision ungranted = snap.decide(request(token("expense-tracker", Set.of(), Map.of()), "inventory.items",
        Action.UPDATE));
    assertThat(granted.denyCode()).isEqualTo(DenyCode.SCOPE_MISSING);
    assertThat(ungranted.denyCode()).isEqualTo(DenyCode.SCOPE_MISSING);
    assertThat(ungranted.reason()).contains("inventory.items:update");
  }

  @Test
  void requestIndependentAllowIsTheSameFullDecisionEveryTime() throws Exception {
    PolicySnapshot s = Fixtures.compile("""
        apps: [{id: a}]
        datasets:
          - name: d
            tags: [sandbox]
            cost_weight: 2.5
            source: {table: d}
            columns: [{name: id, type: bigint}, {name: email, type: text}, {name: secret, type: text}]
        grants: [{id: g, app: a, dataset: d, columns: {deny: [secret], masks: {email: email_domain}}}]
        """);
    Decision first = s.decide(request(token("a", Set.of("d:read"), Map.of("owner_id", "u1")), "d", Action.READ));
    Decision second = s.decide(request(token("a", Set.of("d:read"), Map.of("owner_id", "u2")), "d", Action.READ));
    assertThat(first.allowed()).isTrue();
    assertThat(first.reason()).isEqualTo("allowed by grant g");
    assertThat(first.policyIds()).containsExactly("g");
    assertThat(first.configVersion()).isEqualTo(7);
    assertThat(first.costWeight()).isEqualTo(2.5);
    assertThat(first.rowFilter().isEmpty()).isTrue();
    assertThat(first.columns().maskedColumns()).containsExactly("email");
    assertThat(first.columns().column("secret")).isNull();
    // nothing in it depends on the request, so it is built once at compile time and never per request
    assertThat(second).isSameAs(first);
  }

  static Map<String, Object> rowMap(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  static java.util.function.Function<String, Object> row(Object... kv) {
    return rowMap(kv)::get;
  }
}

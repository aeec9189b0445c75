package io.portcullis.gateway.connector.http;

import io.portcullis.policy.Decision;
import io.portcullis.policy.CompileOptions;
import io.portcullis.policy.DecisionRequest;
import io.portcullis.policy.PolicyCompiler;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.PolicyConfigException;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/** A CRM-like upstream dataset, compiled by the real policy engine: a region row filter, two masks, a hidden column. */
final class CrmPolicy {

  static final String YAML = """
      apps:
        - id: crm-app
          tier: 1
          attrs: {region: eu}
      datasets:
        - name: crm.contacts
          source: {type: http, route: crm, rows_pointer: /data}
          columns:
            - {name: id, type: integer}
            - {name: name, type: text}
            - {name: email, type: text}
            - {name: phone, type: text}
            - {name: region, type: text}
            - {name: ssn, type: text}
            - {name: score, type: numeric}
            - {name: tags, type: jsonb}
      grants:
        - app: crm-app
          dataset: crm.contacts
          actions: [read]
          row_filter: "row.region == token.attrs.region"
          columns: {deny: [ssn], masks: {email: email_domain, phone: last4}}
      routes:
        - {id: crm, path_prefix: /crm, uri: "http://localhost:1/api", timeout: 2s}
      """;

  private CrmPolicy() {
  }

  static Decision decision(String region) {
    try {
      PolicySnapshot snapshot = PolicyCompiler.compile(PolicyConfigLoader.parse(YAML, "crm.yaml"),
          new CompileOptions(1, new byte[32], Clock.systemUTC()));
      Instant now = Instant.now();
      TokenClaims token = new TokenClaims("user-1", "crm-app", Set.of("crm.contacts:read"), 1,
          Map.of("region", region), "jti-1", now, now.plusSeconds(600));
      Decision d = snapshot.decide(new DecisionRequest(token, "crm.contacts", Action.READ, "GET", "/crm/contacts",
          "127.0.0.1", now));
      if (!d.allowed()) {
        throw new IllegalStateException("crm decision denied: " + d.reason());
      }
      return d;
    } catch (PolicyConfigException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}

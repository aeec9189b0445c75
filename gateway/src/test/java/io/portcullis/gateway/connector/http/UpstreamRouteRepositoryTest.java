package io.portcullis.gateway.connector.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.PolicyConfig;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.route.RouteDefinition;

class UpstreamRouteRepositoryTest {

  static PolicyConfig config(String routes) throws Exception {
    String yaml = CrmPolicy.YAML.replace(
        "  - {id: crm, path_prefix: /crm, uri: \"http://localhost:1/api\", timeout: 2s}\n", routes);
    StringBuilder datasets = new StringBuilder();
    for (String id : List.of("data", "oauth", "creds", "ftp", "deep", "bare")) {
      datasets.append("""
            - name: crm.%s
              source: {type: http, route: %s, rows_pointer: /data}
              columns:
                - {name: id, type: integer}
          """.formatted(id, id));
    }
    return PolicyConfigLoader.parse(yaml.replace("grants:\n", datasets + "grants:\n"), "routes.yaml");
  }

  @Test
  void servesEachRouteWithADatasetUnderItsPrefixRewrittenToTheUriPath() throws Exception {
    PolicyConfig c = config("""
          - {id: crm, path_prefix: /crm/, uri: "http://crm.internal:8443/api/v2/", timeout: 2s}
          - {id: deep, path_prefix: /crm/deep, uri: "https://deep.internal", timeout: 500ms}
          - {id: bare, path_prefix: /bare, uri: "http://bare.internal"}
          - {id: lonely, path_prefix: /lonely, uri: "http://lonely.internal"}
          - {id: data, path_prefix: /data, uri: "http://x.internal"}
          - {id: oauth, path_prefix: /oauth2/token, uri: "http://x.internal"}
          - {id: creds, path_prefix: /creds, uri: "http://user:pw@x.internal"}
          - {id: ftp, path_prefix: /ftp, uri: "ftp://x.internal"}
        """);
    List<GovernedPaths.UpstreamMount> mounts = GovernedPaths.upstreamMounts(c);
    // the data API, the broker and ops endpoints are never shadowed; a route no dataset names is not served
    assertThat(mounts).extracting(GovernedPaths.UpstreamMount::prefix)
        .containsExactly("/crm/deep", "/creds", "/bare", "/crm", "/ftp");
    List<RouteDefinition> routes = UpstreamRouteRepository.build(mounts);
    // routes whose uri carries credentials or is not http(s) are dropped too
    assertThat(routes).extracting(RouteDefinition::getId).containsExactly(
        "portcullis-upstream:deep", "portcullis-upstream:bare", "portcullis-upstream:crm");
    RouteDefinition crm = routes.get(2);
    assertThat(crm.getUri().toString()).isEqualTo("http://crm.internal:8443");
    assertThat(crm.getPredicates().get(0).getArgs()).containsValue("/crm/**");
    assertThat(crm.getFilters().get(0).getArgs()).containsValue("/api/v2/${rest}");
    assertThat(crm.getMetadata()).containsEntry("response-timeout", -1L).containsEntry("portcullis-route", "crm")
        .containsEntry("portcullis-read-timeout", java.time.Duration.ofMillis(2000))
        .containsEntry("portcullis-prefix", "/crm");
    assertThat(routes.get(0).getOrder()).isLessThan(crm.getOrder()); // the longer prefix is tried first
  }

  @Test
  void pathsThatCouldLeaveTheRouteBasePathAreRefused() {
    assertThat(GovernedUpstreamFilter.unsafePath("/crm/contacts/7", "/crm")).isFalse();
    assertThat(GovernedUpstreamFilter.unsafePath("/crm", "/crm")).isFalse();
    for (String p : List.of("/crm/../admin", "/crm/%2e%2e/admin", "/crm/a%2Fb", "/crm/a%5cb", "/crm/./x",
        "/crm;v=1/x", "/%63rm/contacts", "/crm/..")) {
      assertThat(GovernedUpstreamFilter.unsafePath(p, "/crm")).as(p).isTrue();
    }
  }

  @Test
  void theRowFilterEqualitiesReplaceTheClientsParametersOfTheSameName() {
    java.util.Map<String, String> declared = new java.util.LinkedHashMap<>();
    declared.put("owner_id", "owner");
    declared.put("region", "filter[region]");
    URI uri = URI.create("http://gw:8080/crm/contacts?page=2&owner=*&OWNER=x&own%65r=y&q=a%20b&flag");
    URI pushed = GovernedUpstreamFilter.pushRowFilter(uri, declared, java.util.Map.of("owner_id", "a&b=c d"));
    assertThat(pushed.toString())
        .isEqualTo("http://gw:8080/crm/contacts?page=2&q=a%20b&flag&owner=a%26b%3Dc%20d");
    assertThat(GovernedUpstreamFilter.pushRowFilter(URI.create("http://gw/crm/x"), declared,
        java.util.Map.of("region", "eu", "owner_id", 7L)).getRawQuery())
        .isEqualTo("owner=7&filter%5Bregion%5D=eu");
    // nothing declared, or no equality on a declared column: the request goes as the client sent it
    assertThat(GovernedUpstreamFilter.pushRowFilter(uri, null, java.util.Map.of("owner_id", "a"))).isNull();
    assertThat(GovernedUpstreamFilter.pushRowFilter(uri, declared, java.util.Map.of("name", "a"))).isNull();
  }
}

package io.portcullis.policy.model;

import java.util.List;
import java.util.Objects;

/** The whole policy configuration: one YAML document (see CONFIG.md). */
public record PolicyConfig(
    Settings settings,
    List<App> apps,
    List<Dataset> datasets,
    List<Grant> grants,
    List<PolicyBlock> policies,
    List<HttpRoute> routes) {

  public PolicyConfig {
    Objects.requireNonNull(settings, "settings");
    apps = List.copyOf(apps);
    datasets = List.copyOf(datasets);
    grants = List.copyOf(grants);
    policies = List.copyOf(policies);
    routes = List.copyOf(routes);
  }
}

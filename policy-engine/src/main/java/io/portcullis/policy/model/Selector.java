package io.portcullis.policy.model;

import java.util.Set;

/** Which requests a policy block applies to; each empty set means "any". All non-empty sets must match. */
public record Selector(Set<String> tags, Set<Integer> tiers, Set<String> datasets, Set<String> apps) {
  public static final Selector ANY = new Selector(Set.of(), Set.of(), Set.of(), Set.of());

  public Selector {
    tags = Set.copyOf(tags);
    tiers = Set.copyOf(tiers);
    datasets = Set.copyOf(datasets);
    apps = Set.copyOf(apps);
  }

  public boolean isAny() {
    return tags.isEmpty() && tiers.isEmpty() && datasets.isEmpty() && apps.isEmpty();
  }
}

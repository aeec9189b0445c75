package io.portcullis.policy.model;

import java.time.LocalDate;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A micro-app (DESIGN.md §2). {@code consents} names the datasets whose pii the app may read unmasked; {@code attrs}
 * are the app's own ABAC attributes (owner_id, team_id, region, …), put in the {@code attrs} claim of its
 * client-credentials tokens (token exchange maps them from the end user instead).
 */
public record App(
    String id,
    String name,
    String owner,
    String team,
    String costCenter,
    int tier,
    AppStatus status,
    @Nullable LocalDate reviewDue,
    ClientCredentials client,
    Set<String> consents,
    @Nullable Quota quota,
    Map<String, Object> attrs) {

  public App {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(team, "team");
    Objects.requireNonNull(costCenter, "costCenter");
    if (tier < 0 || tier > 2) {
      throw new IllegalArgumentException("tier: %s (expected: 0..2)".formatted(tier));
    }
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(client, "client");
    consents = Set.copyOf(consents);
    attrs = Map.copyOf(attrs);
  }

  /** An app without ABAC attributes of its own. */
  public App(String id, String name, String owner, String team, String costCenter, int tier, AppStatus status,
      @Nullable LocalDate reviewDue, ClientCredentials client, Set<String> consents, @Nullable Quota quota) {
    this(id, name, owner, team, costCenter, tier, status, reviewDue, client, consents, quota, Map.of());
  }
}

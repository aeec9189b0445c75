package io.portcullis.gateway.admin;

import io.portcullis.policy.model.App;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.Grant;
import io.portcullis.policy.model.HttpRoute;
import io.portcullis.policy.model.HttpSource;
import io.portcullis.policy.model.PolicyBlock;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.Selector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which changes need a second admin (issue 8, DESIGN.md §8): those touching a tier-2 app or a dataset tagged
 * {@code regulated} or {@code pii}, judged on both sides of the change so neither downgrading an app to tier 1 nor
 * untagging a dataset slips through alone. "Touching" means:
 * <ul>
 *   <li>an app that is tier 2 before or after;</li>
 *   <li>a dataset whose own tags (not its columns' — nearly every dataset has a pii column, and the column-level
 *       pii rule is the policy engine's job) include {@code regulated} or {@code pii}, before or after;</li>
 *   <li>a grant of a tier-2 app or on such a dataset;</li>
 *   <li>a policy block whose selector can reach a tier-2 app or such a dataset (an unrestricted block reaches all);</li>
 *   <li>a route serving such a dataset; and any change of the engine-wide settings ({@code pii_mode}).</li>
 * </ul>
 * Fails closed: anything it cannot place is sensitive.
 */
final class FourEyesRule {

  static final Set<String> SENSITIVE_TAGS = Set.of("regulated", "pii");

  private FourEyesRule() {
  }

  /** Why this change needs a second admin; empty when one admin may apply it. */
  static List<String> reasons(PolicyConfig before, PolicyConfig after, ConfigDiff diff) {
    Set<String> reasons = new LinkedHashSet<>();
    if (diff.settingsChanged()) {
      reasons.add("engine-wide settings change");
    }
    for (ConfigDiff.Change c : diff.changes()) {
      for (PolicyConfig side : List.of(before, after)) {
        String why = switch (c.kind()) {
          case APP -> tier2(side, c.id()) ? "app " + c.id() + " is tier 2" : null;
          case DATASET -> sensitive(side, c.id()) ? "dataset " + c.id() + " is regulated/pii" : null;
          case GRANT -> grant(side, c.id());
          case POLICY -> policy(side, c.id());
          case ROUTE -> route(side, c.id());
        };
        if (why != null) {
          reasons.add(why);
        }
      }
    }
    return new ArrayList<>(reasons);
  }

  private static boolean tier2(PolicyConfig config, String appId) {
    for (App a : config.apps()) {
      if (a.id().equals(appId)) {
        return a.tier() == 2;
      }
    }
    return false;
  }

  private static boolean sensitive(PolicyConfig config, String datasetName) {
    for (Dataset d : config.datasets()) {
      if (d.name().equals(datasetName)) {
        return sensitive(d);
      }
    }
    return false;
  }

  private static boolean sensitive(Dataset d) {
    return d.tags().stream().anyMatch(SENSITIVE_TAGS::contains);
  }

  private static @Nullable String grant(PolicyConfig config, String grantId) {
    for (Grant g : config.grants()) {
      if (g.id().equals(grantId)) {
        if (tier2(config, g.app())) {
          return "grant " + grantId + " is for tier-2 app " + g.app();
        }
        if (sensitive(config, g.dataset())) {
          return "grant " + grantId + " is on regulated/pii dataset " + g.dataset();
        }
      }
    }
    return null;
  }

  private static @Nullable String policy(PolicyConfig config, String policyId) {
    for (PolicyBlock p : config.policies()) {
      if (p.id().equals(policyId)) {
        Selector s = p.appliesTo();
        if (s.tags().stream().anyMatch(SENSITIVE_TAGS::contains)) {
          return "policy " + policyId + " selects regulated/pii data";
        }
        for (App a : config.apps()) {
          if (a.tier() == 2 && (s.tiers().isEmpty() || s.tiers().contains(2))
              && (s.apps().isEmpty() || s.apps().contains(a.id()))) {
            return "policy " + policyId + " can apply to tier-2 app " + a.id();
          }
        }
        for (Dataset d : config.datasets()) {
          if (sensitive(d) && (s.datasets().isEmpty() || s.datasets().contains(d.name()))
              && (s.tags().isEmpty() || !disjoint(s.tags(), tagsOf(d)))) {
            return "policy " + policyId + " can apply to regulated/pii dataset " + d.name();
          }
        }
      }
    }
    return null;
  }

  private static @Nullable String route(PolicyConfig config, String routeId) {
    for (HttpRoute r : config.routes()) {
      if (r.id().equals(routeId)) {
        for (Dataset d : config.datasets()) {
          if (sensitive(d) && d.source() instanceof HttpSource h && h.route().equals(routeId)) {
            return "route " + routeId + " serves regulated/pii dataset " + d.name();
          }
        }
      }
    }
    return null;
  }

  private static Set<String> tagsOf(Dataset d) {
    Set<String> tags = new HashSet<>(d.tags());
    for (Column c : d.columns()) {
      tags.addAll(c.tags());
    }
    return tags;
  }

  private static boolean disjoint(Set<String> a, Set<String> b) {
    return a.stream().noneMatch(b::contains);
  }
}

package io.portcullis.policy;

import com.cedarpolicy.BasicAuthorizationEngine;
import com.cedarpolicy.model.AuthorizationRequest;
import com.cedarpolicy.model.AuthorizationResponse;
import com.cedarpolicy.model.Context;
import com.cedarpolicy.model.entity.Entities;
import com.cedarpolicy.model.entity.Entity;
import com.cedarpolicy.model.policy.PolicySet;
import com.cedarpolicy.value.CedarList;
import com.cedarpolicy.value.EntityTypeName;
import com.cedarpolicy.value.EntityUID;
import com.cedarpolicy.value.PrimBool;
import com.cedarpolicy.value.PrimLong;
import com.cedarpolicy.value.PrimString;
import com.cedarpolicy.value.Value;
import io.portcullis.policy.LargeConfigFixture.Case;
import io.portcullis.policy.model.Action;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Peer baseline: Cedar ({@code com.cedarpolicy:cedar-java:4.10.0:uber}, the Rust engine through JNI) on policies
 * equivalent to the part of the Portcullis config that decides {@link LargeConfigFixture}'s mix, judging the same
 * {@value LargeConfigFixture#MIX} requests. {@link #setup()} fails unless Cedar's decision equals Portcullis's
 * allow/deny for every request.
 *
 * <p>Entity-based, the idiomatic Cedar way to hold 100,000 grants: one {@code permit} per action checks the token's
 * scope (context), the grant ({@code principal.<action>} holds the datasets the app may act on), tier 0 only on
 * sandbox datasets, and on owner-scoped datasets the row-level owner condition. Each request carries its entity
 * slice — the app with its grants and the dataset — prebuilt in {@link #setup()} (in production it would be loaded
 * per request, so this is Cedar's best case). The policy set is {@link PolicySet#cache() cached} on the native side.
 *
 * <p>Run with {@link LargeConfigDecideBenchmark} (see there for the command).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class CedarBaselineBenchmark {
  static final List<String> ACTIONS = List.of("read", "create", "update", "delete");

  static String policies() {
    StringBuilder p = new StringBuilder();
    for (String a : ACTIONS) {
      p.append("permit (principal, action == Action::\"").append(a).append("\", resource)\nwhen {\n")
          .append("  context.scope.contains(resource.").append(a).append("_scope) &&\n")
          .append("  principal.").append(a).append(".contains(resource) &&\n")
          .append("  (context.tier != 0 || resource.sandbox) &&\n")
          .append("  (!resource.owner_scoped || context.row_owner == context.owner_id)\n};\n");
    }
    return p.toString();
  }

  BasicAuthorizationEngine engine;
  PolicySet policySet;
  AuthorizationRequest[] requests;
  Entities[] entities;
  int i;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    engine = new BasicAuthorizationEngine();
    policySet = PolicySet.parsePolicies(policies());
    policySet.cache();

    EntityTypeName appType = EntityTypeName.parse("App").orElseThrow();
    EntityTypeName datasetType = EntityTypeName.parse("Dataset").orElseThrow();
    EntityTypeName actionType = EntityTypeName.parse("Action").orElseThrow();
    Entity[] datasetEntities = new Entity[LargeConfigFixture.DATASETS];
    for (int d = 0; d < LargeConfigFixture.DATASETS; d++) {
      String name = LargeConfigFixture.datasetName(d);
      Map<String, Value> attrs = new HashMap<>();
      for (String a : ACTIONS) {
        attrs.put(a + "_scope", new PrimString(name + ":" + a));
      }
      attrs.put("sandbox", new PrimBool(LargeConfigFixture.kindOf(d) == 0));
      attrs.put("owner_scoped", new PrimBool(LargeConfigFixture.kindOf(d) == 1));
      datasetEntities[d] = new Entity(datasetType.of(name), attrs, Set.of());
    }

    List<Case> cases = LargeConfigFixture.mix();
    requests = new AuthorizationRequest[cases.size()];
    entities = new Entities[cases.size()];
    for (int n = 0; n < cases.size(); n++) {
      Case c = cases.get(n);
      int app = Integer.parseInt(c.app().substring("app-".length()));
      Map<String, List<Value>> granted = new HashMap<>();
      ACTIONS.forEach(a -> granted.put(a, new ArrayList<>()));
      for (int k = 0; k < LargeConfigFixture.GRANTS_PER_APP; k++) {
        int d = LargeConfigFixture.grantDataset(app, k);
        for (Action a : LargeConfigFixture.grantActions(d)) {
          granted.get(action(a)).add(datasetType.of(LargeConfigFixture.datasetName(d)));
        }
      }
      Map<String, Value> appAttrs = new HashMap<>();
      granted.forEach((a, ds) -> appAttrs.put(a, new CedarList(ds)));
      EntityUID principal = appType.of(c.app());
      EntityUID resource = datasetType.of(c.dataset());
      Entity datasetEntity = datasetEntities[Integer.parseInt(c.dataset().substring("ds-".length()))];
      entities[n] = new Entities(Set.of(new Entity(principal, appAttrs, Set.of()), datasetEntity));

      Map<String, Value> context = new HashMap<>();
      context.put("scope", new CedarList(c.scopes().stream().<Value>map(PrimString::new).toList()));
      context.put("tier", new PrimLong(c.tier()));
      context.put("owner_id", new PrimString(c.ownerId()));
      context.put("row_owner", new PrimString(c.rowOwner()));
      requests[n] = new AuthorizationRequest(principal, actionType.of(action(c.action())), resource,
          new Context(context));

      AuthorizationResponse r = engine.isAuthorized(requests[n], policySet, entities[n]);
      boolean allowed = r.success.orElseThrow(() -> new IllegalStateException("cedar failed: " + r)).isAllowed();
      if (allowed != c.kind().allowed) {
        throw new IllegalStateException("Cedar decided " + allowed + " for " + c.kind() + " " + r);
      }
    }
  }

  static String action(Action a) {
    return a.name().toLowerCase(Locale.ROOT);
  }

  @Benchmark
  public AuthorizationResponse mix() throws Exception {
    int n = i++ & (requests.length - 1);
    return engine.isAuthorized(requests[n], policySet, entities[n]);
  }
}

package io.portcullis.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.policy.LargeConfigFixture.Case;
import io.portcullis.policy.model.Action;
import io.sapl.api.interpreter.Val;
import io.sapl.api.pdp.AuthorizationDecision;
import io.sapl.api.pdp.AuthorizationSubscription;
import io.sapl.api.pdp.Decision;
import io.sapl.interpreter.combinators.PolicyDocumentCombiningAlgorithm;
import io.sapl.pdp.EmbeddedPolicyDecisionPoint;
import io.sapl.pdp.PolicyDecisionPointFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Peer baseline: SAPL's embedded PDP ({@code io.sapl:sapl-pdp-embedded} 3.0.0) on a policy equivalent to the part of
 * the Portcullis config that decides {@link LargeConfigFixture}'s mix, judging the same {@value LargeConfigFixture#MIX}
 * requests. {@link #setup()} fails unless SAPL's decision equals Portcullis's allow/deny for every request.
 *
 * <p>The policy is data-driven, the idiomatic SAPL way to hold 100,000 grants: the grants (app → dataset → actions)
 * and the dataset facts (sandbox, owner-scoped) are PDP variables built once, and one policy checks the scope
 * {@code dataset:action} in the token, the grant, tier 0 only on sandbox datasets, and on owner-scoped datasets the
 * row-level owner condition (the row's {@code owner_id} equals the token's). Combining: {@code DENY_UNLESS_PERMIT}.
 * {@code mixGrantsInSubscription} is the same policy with the app's own grants carried in the subscription (like
 * Cedar's entity slice), for when SAPL's cost depends on the size of the variables.
 * SAPL has no synchronous decide: the call measured is {@code pdp.decide(subscription).blockFirst()} on the benchmark
 * thread (subscriptions are prebuilt {@code JsonNode}s).
 *
 * <p>Run with {@link LargeConfigDecideBenchmark} (see there for the command).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SaplBaselineBenchmark {
  static final String POLICY = """
      policy "portcullis-equivalent"
      permit
      where
        var ds = datasets[(resource.dataset)];
        (resource.dataset + ":" + action) in subject.scope;
        action in grants[(subject.client_id)][(resource.dataset)];
        subject.tier != 0 || ds.sandbox;
        !ds.owner_scoped || resource.owner_id == subject.owner_id;
      """;

  /** The same policy, with the app's own grants carried in the subscription (like Cedar's entity slice). */
  static final String SLICE_POLICY = POLICY.replace("grants[(subject.client_id)]", "subject.grants");

  EmbeddedPolicyDecisionPoint pdp;
  EmbeddedPolicyDecisionPoint slicePdp;
  AuthorizationSubscription[] mix;
  AuthorizationSubscription[] sliceMix;
  int i;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode grants = json.createObjectNode();
    for (int a = 0; a < LargeConfigFixture.APPS; a++) {
      ObjectNode byDataset = grants.putObject(LargeConfigFixture.appId(a));
      for (int k = 0; k < LargeConfigFixture.GRANTS_PER_APP; k++) {
        int d = LargeConfigFixture.grantDataset(a, k);
        var actions = byDataset.putArray(LargeConfigFixture.datasetName(d));
        LargeConfigFixture.grantActions(d).stream().map(SaplBaselineBenchmark::action).sorted()
            .forEach(actions::add);
      }
    }
    ObjectNode datasets = json.createObjectNode();
    for (int d = 0; d < LargeConfigFixture.DATASETS; d++) {
      datasets.putObject(LargeConfigFixture.datasetName(d))
          .put("sandbox", LargeConfigFixture.kindOf(d) == 0)
          .put("owner_scoped", LargeConfigFixture.kindOf(d) == 1);
    }
    pdp = PolicyDecisionPointFactory.fixedInRamPolicyDecisionPoint(List.of(POLICY),
        PolicyDocumentCombiningAlgorithm.DENY_UNLESS_PERMIT,
        Map.of("grants", Val.of(grants), "datasets", Val.of(datasets)));

    slicePdp = PolicyDecisionPointFactory.fixedInRamPolicyDecisionPoint(List.of(SLICE_POLICY),
        PolicyDocumentCombiningAlgorithm.DENY_UNLESS_PERMIT, Map.of("datasets", Val.of(datasets)));

    List<Case> cases = LargeConfigFixture.mix();
    mix = new AuthorizationSubscription[cases.size()];
    sliceMix = new AuthorizationSubscription[cases.size()];
    for (int n = 0; n < cases.size(); n++) {
      Case c = cases.get(n);
      ObjectNode subject = json.createObjectNode().put("client_id", c.app()).put("tier", c.tier())
          .put("owner_id", c.ownerId());
      c.scopes().forEach(subject.putArray("scope")::add);
      ObjectNode resource = json.createObjectNode().put("dataset", c.dataset()).put("owner_id", c.rowOwner());
      mix[n] = new AuthorizationSubscription(subject, json.getNodeFactory().textNode(action(c.action())), resource,
          null);
      Decision got = pdp.decide(mix[n]).blockFirst().getDecision();
      if ((got == Decision.PERMIT) != c.kind().allowed) {
        throw new IllegalStateException("SAPL decided " + got + " for " + c.kind() + " " + mix[n]);
      }
      ObjectNode sliceSubject = subject.deepCopy();
      sliceSubject.set("grants", grants.get(c.app()));
      sliceMix[n] = new AuthorizationSubscription(sliceSubject, mix[n].getAction(), resource, null);
      got = slicePdp.decide(sliceMix[n]).blockFirst().getDecision();
      if ((got == Decision.PERMIT) != c.kind().allowed) {
        throw new IllegalStateException("SAPL (slice) decided " + got + " for " + c.kind() + " " + sliceMix[n]);
      }
    }
  }

  static String action(Action a) {
    return a.name().toLowerCase(Locale.ROOT);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pdp.destroy();
    slicePdp.destroy();
  }

  @Benchmark
  public AuthorizationDecision mix() {
    return pdp.decide(mix[i++ & (mix.length - 1)]).blockFirst();
  }

  @Benchmark
  public AuthorizationDecision mixGrantsInSubscription() {
    return slicePdp.decide(sliceMix[i++ & (sliceMix.length - 1)]).blockFirst();
  }
}

package io.portcullis.policy;

import io.portcullis.policy.LargeConfigFixture.Case;
import io.portcullis.policy.LargeConfigFixture.Kind;
import io.portcullis.policy.model.Action;
import java.util.List;
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
 * {@code decide} with {@value LargeConfigFixture#APPS} apps and {@value LargeConfigFixture#GRANTS} grants loaded
 * (generated YAML, parsed and compiled once per fork in {@link #setup()}), on the shuffled mix of
 * {@link LargeConfigFixture#mix()} ({@code mix}: allowed, denied — scope missing, no grant, tier 0 outside the sandbox —,
 * row-filtered and masked in equal shares) and on each kind alone. {@code javaCondition} / {@code celCondition} are
 * one grant condition each, on the same snapshot, that {@link PolicySnapshot#conditionEngines()} reports as
 * {@code java} and {@code cel}.
 *
 * <p>The peers, on equivalent policies and the same mix, are {@link SaplBaselineBenchmark} and
 * {@link CedarBaselineBenchmark}; run them in the same JMH invocation.
 *
 * <p>Run (average and sampled time with p50/p99, and bytes allocated per decision):
 * {@code ./mvnw -B -q -pl policy-engine -Pjmh test-compile exec:exec
 * -Djmh.args="LargeConfigDecideBenchmark|SaplBaselineBenchmark|CedarBaselineBenchmark -bm avgt,sample -prof gc"}
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class LargeConfigDecideBenchmark {
  PolicySnapshot snapshot;
  DecisionRequest[] mix;
  DecisionRequest[] allowed;
  DecisionRequest[] scopeMissing;
  DecisionRequest[] noGrant;
  DecisionRequest[] tier0Sandbox;
  DecisionRequest[] rowFiltered;
  DecisionRequest[] masked;
  DecisionRequest javaCondition;
  DecisionRequest celCondition;
  int i;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    snapshot = LargeConfigFixture.compile();
    List<Case> cases = LargeConfigFixture.mix();
    LargeConfigFixture.check(snapshot, cases);
    mix = cases.stream().map(Case::request).toArray(DecisionRequest[]::new);
    allowed = only(cases, Kind.ALLOWED);
    scopeMissing = only(cases, Kind.SCOPE_MISSING);
    noGrant = only(cases, Kind.NO_GRANT);
    tier0Sandbox = only(cases, Kind.TIER0_SANDBOX);
    rowFiltered = only(cases, Kind.ROW_FILTERED);
    masked = only(cases, Kind.MASKED);

    javaCondition = conditionRequest(LargeConfigFixture.JAVA_CONDITION_APP);
    celCondition = conditionRequest(LargeConfigFixture.CEL_CONDITION_APP);
    String javaPath = "grants[" + LargeConfigFixture.JAVA_CONDITION_APP * LargeConfigFixture.GRANTS_PER_APP
        + "].condition";
    String celPath = "grants[" + LargeConfigFixture.CEL_CONDITION_APP * LargeConfigFixture.GRANTS_PER_APP
        + "].condition";
    Map<String, String> engines = snapshot.conditionEngines();
    if (!"java".equals(engines.get(javaPath)) || !"cel".equals(engines.get(celPath))) {
      throw new IllegalStateException("condition engines: " + engines);
    }
    if (!snapshot.decide(javaCondition).allowed() || !snapshot.decide(celCondition).allowed()) {
      throw new IllegalStateException("condition requests must be allowed");
    }
  }

  private static DecisionRequest[] only(List<Case> cases, Kind kind) {
    // a power of two, so that the benchmark cycles with a mask
    DecisionRequest[] all = cases.stream().filter(c -> c.kind() == kind).map(Case::request)
        .toArray(DecisionRequest[]::new);
    return java.util.Arrays.copyOf(all, Integer.highestOneBit(all.length));
  }

  private static DecisionRequest conditionRequest(int app) {
    String dataset = LargeConfigFixture.datasetName(LargeConfigFixture.grantDataset(app, 0));
    TokenClaims token = new TokenClaims("u1", LargeConfigFixture.appId(app),
        Set.copyOf(LargeConfigFixture.grantedScopes(app)), LargeConfigFixture.tierOf(app),
        Map.of("owner_id", "u1", "level", 3), "jti", LargeConfigFixture.NOW,
        LargeConfigFixture.NOW.plusSeconds(600));
    return new DecisionRequest(token, dataset, Action.READ, "GET", "/data/" + dataset, "10.0.0.1",
        LargeConfigFixture.NOW);
  }

  @Benchmark
  public Decision mix() {
    return snapshot.decide(mix[i++ & (mix.length - 1)]);
  }

  @Benchmark
  public Decision allowed() {
    return snapshot.decide(allowed[i++ & (allowed.length - 1)]);
  }

  @Benchmark
  public Decision deniedScopeMissing() {
    return snapshot.decide(scopeMissing[i++ & (scopeMissing.length - 1)]);
  }

  @Benchmark
  public Decision deniedNoGrant() {
    return snapshot.decide(noGrant[i++ & (noGrant.length - 1)]);
  }

  @Benchmark
  public Decision deniedTier0Sandbox() {
    return snapshot.decide(tier0Sandbox[i++ & (tier0Sandbox.length - 1)]);
  }

  @Benchmark
  public Decision rowFiltered() {
    return snapshot.decide(rowFiltered[i++ & (rowFiltered.length - 1)]);
  }

  @Benchmark
  public Decision masked() {
    return snapshot.decide(masked[i++ & (masked.length - 1)]);
  }

  @Benchmark
  public Decision javaCondition() {
    return snapshot.decide(javaCondition);
  }

  @Benchmark
  public Decision celCondition() {
    return snapshot.decide(celCondition);
  }
}

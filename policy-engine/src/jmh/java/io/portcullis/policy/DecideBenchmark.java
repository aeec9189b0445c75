package io.portcullis.policy;

import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot path: {@code decide} on the sample config, inputs built in {@link #setup()}. {@code celCondition} shows what
 * the CEL fallback costs against the Java-compiled {@code javaCondition}.
 *
 * <p>Run: {@code ./mvnw -B -q -pl policy-engine -Pjmh test-compile exec:exec -Djmh.args="DecideBenchmark"}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecideBenchmark {
  PolicySnapshot snapshot;
  PolicySnapshot celSnapshot;
  DecisionRequest allowedWithFilter;
  DecisionRequest scopeMissing;
  DecisionRequest ownerScopedWithPiiMasks;
  DecisionRequest javaCondition;
  DecisionRequest celCondition;

  @Setup
  public void setup() throws Exception {
    Instant now = Instant.parse("2026-11-23T10:00:00Z");
    CompileOptions options = new CompileOptions(1, "benchmark-hash-key-0123".getBytes(StandardCharsets.UTF_8),
        Clock.systemUTC());
    Path config = Path.of(System.getProperty("portcullis.config", "examples/portcullis.yaml"));
    snapshot = PolicyCompiler.compile(PolicyConfigLoader.loadLocated(config), options);
    celSnapshot = PolicyCompiler.compile(PolicyConfigLoader.parseLocated("""
        apps: [{id: a}]
        datasets: [{name: d, tags: [sandbox], source: {table: d}, columns: [{name: id, type: bigint}]}]
        grants:
          - {id: java, app: a, dataset: d, actions: [read], condition: "token.attrs.level >= 2 && request.method == 'GET'"}
          - {id: cel, app: a, dataset: d, actions: [update], condition: "token.attrs.level >= 2 && request.method.startsWith('PA')"}
        """, "bench.yaml"), options);
    allowedWithFilter = request(token("expense-tracker", Set.of("inventory.items:read"),
        Map.of("team_id", "t1", "region", "eu"), now), "inventory.items", Action.READ, "GET", now);
    scopeMissing = request(token("expense-tracker", Set.of("hr.people:read"), Map.of(), now),
        "inventory.items", Action.READ, "GET", now);
    ownerScopedWithPiiMasks = request(token("team-directory", Set.of("hr.people:read"), Map.of("owner_id", "u1"),
        now), "hr.people", Action.READ, "GET", now);
    javaCondition = request(token("a", Set.of("d:read"), Map.of("level", 3), now), "d", Action.READ, "GET", now);
    celCondition = request(token("a", Set.of("d:update"), Map.of("level", 3), now), "d", Action.UPDATE, "PATCH",
        now);
    for (Decision d : new Decision[] {snapshot.decide(allowedWithFilter), snapshot.decide(ownerScopedWithPiiMasks),
        celSnapshot.decide(javaCondition), celSnapshot.decide(celCondition)}) {
      if (!d.allowed()) {
        throw new IllegalStateException("benchmark input must be allowed: " + d.reason());
      }
    }
  }

  private static TokenClaims token(String app, Set<String> scopes, Map<String, Object> attrs, Instant now) {
    return new TokenClaims("user", app, scopes, 1, attrs, "jti", now, now.plusSeconds(600));
  }

  private static DecisionRequest request(TokenClaims t, String dataset, Action action, String method, Instant now) {
    return new DecisionRequest(t, dataset, action, method, "/data/" + dataset, "10.0.0.1", now);
  }

  @Benchmark
  public Decision allowedWithRowFilter() {
    return snapshot.decide(allowedWithFilter);
  }

  @Benchmark
  public Decision deniedScopeMissing() {
    return snapshot.decide(scopeMissing);
  }

  @Benchmark
  public Decision ownerScopedWithPiiMasks() {
    return snapshot.decide(ownerScopedWithPiiMasks);
  }

  @Benchmark
  public Decision javaCondition() {
    return celSnapshot.decide(javaCondition);
  }

  @Benchmark
  public Decision celCondition() {
    return celSnapshot.decide(celCondition);
  }
}

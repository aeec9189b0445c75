package io.portcullis.loadtests;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.percent;
import static io.gatling.javaapi.core.CoreDsl.randomSwitch;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * A fleet of micro-apps against a running Portcullis (started by {@code load-tests/gatling.sh}, which generates the
 * apps): tier-0 survey apps reading and appending form submissions, tier-1 inventory apps reading (with filters and
 * ordering) and creating owner-scoped rows, tier-2 HR reviewers reading their approval queue, and "noisy" tier-0 apps (four clients each)
 * polling far above their rate limit. Every app takes short-lived tokens ({@code expires_in} = {@value #TOKEN_TTL_S}
 * s) and fetches a new one before the old one expires, as a micro-app using the broker should.
 *
 * <p>Besides Gatling's own report (latency percentiles per request, in {@code load-tests/target/gatling}), the
 * simulation prints the answer mix: per request, every status and problem {@code code} it met — so throttling
 * ({@code 429 rate_limited}) of the noisy apps and the absence of errors elsewhere are read off one table. Any 5xx
 * is a failed check.
 */
public class FleetSimulation extends Simulation {
  static final String BASE = System.getProperty("portcullis.base", "http://127.0.0.1:8080");
  static final String SECRET = System.getProperty("portcullis.secret", "");
  static final int SECONDS = Integer.getInteger("fleet.seconds", 60);
  static final int SANDBOX_APPS = Integer.getInteger("fleet.sandbox", 20);
  static final int INVENTORY_APPS = Integer.getInteger("fleet.inventory", 20);
  static final int HR_APPS = Integer.getInteger("fleet.hr", 5);
  static final int NOISY_APPS = Integer.getInteger("fleet.noisy", 3);
  static final int USERS_PER_APP = Integer.getInteger("fleet.users-per-app", 2);
  static final int TOKEN_TTL_S = 30;

  static final Map<String, LongAdder> ANSWERS = new ConcurrentHashMap<>();

  final HttpProtocolBuilder protocol = http.baseUrl(BASE).acceptHeader("application/json")
      .contentTypeHeader("application/json").disableCaching();

  /** A new token when there is none or the current one has less than a third of its life left. */
  static ChainBuilder freshToken() {
    return doIf(session -> !session.contains("token")
            || System.currentTimeMillis() > session.getLong("tokenRenewAt"))
        .then(exec(http("token").post("/oauth2/token")
            .basicAuth("#{app}", SECRET)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .formParam("grant_type", "client_credentials")
            .formParam("expires_in", String.valueOf(TOKEN_TTL_S))
            .check(status().is(200), jsonPath("$.access_token").saveAs("token"),
                jsonPath("$.expires_in").ofInt().saveAs("ttl")))
            .exec(session -> session.set("tokenRenewAt",
                System.currentTimeMillis() + session.getInt("ttl") * 1000L * 2 / 3)));
  }

  /** A governed call: any answer but a 5xx passes the check; what it was is tallied for the answer mix. */
  static ChainBuilder call(String name, HttpRequestActionBuilder request) {
    return exec(request.header("Authorization", "Bearer #{token}")
            .check(status().lt(500).saveAs("status"), jsonPath("$.code").optional().saveAs("code")))
        .exec(session -> tally(name, session));
  }

  static Session tally(String name, Session session) {
    if (session.contains("status")) {
      String code = session.contains("code") ? " " + session.getString("code") : "";
      ANSWERS.computeIfAbsent(name + " → " + session.getInt("status") + code, k -> new LongAdder()).increment();
    }
    return session.remove("status").remove("code");
  }

  static Iterator<Map<String, Object>> apps(String prefix, int count) {
    List<Map<String, Object>> apps = new ArrayList<>();
    IntStream.range(0, count).forEach(i -> apps.add(Map.of("app", prefix + "-%03d".formatted(i))));
    return new Iterator<>() {
      int next;

      @Override
      public boolean hasNext() {
        return true;
      }

      @Override
      public synchronized Map<String, Object> next() {
        return apps.get(next++ % apps.size());
      }
    };
  }

  static ScenarioBuilder fleet(String kind, int apps, Duration think, ChainBuilder work) {
    return scenario(kind).feed(apps(kind, apps))
        .during(Duration.ofSeconds(SECONDS)).on(freshToken().exec(work).pause(think.dividedBy(2), think));
  }

  static String submission() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String department = List.of("finance", "ops", "sales", "hr").get(r.nextInt(4));
    return "{\"form\": \"canteen-2026\", \"submitter_email\": \"u%d@corp.example\", \"department\": \"%s\","
        .formatted(r.nextInt(10_000), department) + " \"rating\": %d, \"answer\": \"load test\"}".formatted(1 + r.nextInt(5));
  }

  static String item() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return "{\"name\": \"widget %d\", \"category\": \"spares\", \"quantity\": %d, \"location\": \"bay %d\"}"
        .formatted(r.nextInt(1_000_000), r.nextInt(100), r.nextInt(20));
  }

  final ScenarioBuilder sandbox = fleet("sandbox", SANDBOX_APPS, Duration.ofMillis(400), randomSwitch().on(
      percent(80).then(call("forms read", http("forms read").get("/data/forms.submissions?limit=20"))),
      percent(20).then(call("forms append", http("forms append").post("/data/forms.submissions")
          .body(StringBody(session -> submission()))))));

  final ScenarioBuilder inventory = fleet("inventory", INVENTORY_APPS, Duration.ofMillis(300), randomSwitch().on(
      percent(60).then(call("items read", http("items read")
          .get("/data/inventory.items?limit=50&order=name.asc"))),
      percent(25).then(call("items filtered", http("items filtered")
          .get("/data/inventory.items?category=eq.spares&quantity=gte.10&select=id,name,quantity"))),
      percent(15).then(call("items create", http("items create").post("/data/inventory.items")
          .body(StringBody(session -> item()))))));

  final ScenarioBuilder hr = fleet("hr", HR_APPS, Duration.ofMillis(800),
      call("approvals read", http("approvals read").get("/data/hr.approvals?limit=20")));

  final ScenarioBuilder noisy = fleet("noisy", NOISY_APPS, Duration.ofMillis(20),
      call("noisy poll", http("noisy poll").get("/data/forms.submissions?limit=5")));

  {
    List<PopulationBuilder> populations = List.of(
        sandbox.injectOpen(rampUsers(SANDBOX_APPS * USERS_PER_APP).during(Duration.ofSeconds(5))),
        inventory.injectOpen(rampUsers(INVENTORY_APPS * USERS_PER_APP).during(Duration.ofSeconds(5))),
        hr.injectOpen(rampUsers(HR_APPS * USERS_PER_APP).during(Duration.ofSeconds(5))),
        noisy.injectOpen(atOnceUsers(NOISY_APPS * 4)));
    setUp(populations).protocols(protocol);
  }

  @Override
  public void after() {
    System.out.println();
    System.out.println("Answer mix (request → status code: count)");
    new TreeMap<>(ANSWERS).forEach((k, v) -> System.out.printf("  %-60s %,10d%n", k, v.sum()));
  }
}

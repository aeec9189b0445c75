package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * The gateway-side JWKS (a gateway that does not run the broker fetches the broker's keys): an attacker spraying
 * tokens with made-up {@code kid}s must not turn into a stream of fetches — at most one per interval, shared by all
 * concurrent callers — while a genuinely new key is still picked up after the interval.
 */
class RemoteJwksTest {

  static final Duration INTERVAL = Duration.ofSeconds(10);
  static final RSAKey FIRST = BrokerFixture.rsa("first");
  static final RSAKey ROTATED = BrokerFixture.rsa("rotated");

  final AtomicInteger fetches = new AtomicInteger();
  final AtomicReference<JWKSet> published = new AtomicReference<>(new JWKSet(FIRST.toPublicJWK()));
  final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));
  HttpServer server;
  RemoteJwks jwks;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/.well-known/jwks.json", exchange -> {
      fetches.incrementAndGet();
      byte[] body = published.get().toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    jwks = new RemoteJwks(WebClient.builder(),
        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/.well-known/jwks.json"), INTERVAL,
        Duration.ofMinutes(5), clock);
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void sprayedUnknownKidsCauseAtMostOneFetchPerInterval() {
    assertThat(find("first")).isNotNull();
    assertThat(fetches).hasValue(1);

    // 1,000 made-up kids from many threads at once, inside the interval: nothing fetched, nothing found
    assertThat(spray(1_000)).isEmpty();
    assertThat(fetches).hasValue(1);
    clock.advance(INTERVAL.minusSeconds(1));
    assertThat(spray(1_000)).isEmpty();
    assertThat(fetches).hasValue(1);

    // past the interval the broker has rotated: the next spray causes exactly one fetch, shared by all callers ...
    published.set(new JWKSet(List.of(ROTATED.toPublicJWK(), FIRST.toPublicJWK())));
    clock.advance(Duration.ofSeconds(2));
    assertThat(spray(1_000)).isEmpty();
    assertThat(fetches).hasValue(2);
    // ... and that fetch brought the new key, so a token under it verifies without another one
    assertThat(find("rotated")).isEqualTo(ROTATED.toPublicJWK());
    assertThat(find("first")).isEqualTo(FIRST.toPublicJWK());
    assertThat(fetches).hasValue(2);
  }

  @Test
  void concurrentFirstLookupsShareOneFetch() {
    List<JWK> found = Flux.range(0, 200).parallel(8).runOn(Schedulers.parallel())
        .flatMap(i -> jwks.find("first"))
        .sequential().collectList().block(Duration.ofSeconds(10));
    assertThat(found).hasSize(200);
    assertThat(fetches).hasValue(1);
  }

  JWK find(String kid) {
    return jwks.find(kid).block(Duration.ofSeconds(10));
  }

  /** Looks up {@code n} random kids concurrently; returns whatever was found (an attacker hopes for something). */
  List<JWK> spray(int n) {
    return Flux.range(0, n).parallel(8).runOn(Schedulers.parallel())
        .flatMap(i -> jwks.find("attacker-" + UUID.randomUUID()))
        .sequential().collectList().block(Duration.ofSeconds(10));
  }

  /** A clock the test moves: the interval is judged on it, so the test needs no sleeping and no timing luck. */
  static final class TestClock extends Clock {
    private volatile Instant now;

    TestClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}

package io.portcullis.gateway.database;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import io.r2dbc.spi.R2dbcTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class DatabaseWaitTest {

  /** Fails with {@code failure} the first {@code times} subscriptions, then answers. */
  static Mono<String> database(AtomicInteger attempts, int times, RuntimeException failure) {
    return Mono.defer(() -> attempts.incrementAndGet() <= times ? Mono.error(failure) : Mono.just("schema ready"));
  }

  @Test
  void aDatabaseThatIsNotAcceptingConnectionsYetIsWaitedFor() {
    AtomicInteger attempts = new AtomicInteger();
    RuntimeException slow = new R2dbcTimeoutException("Connection acquisition timed out after 2000ms");
    RuntimeException refused = new R2dbcNonTransientResourceException("Cannot connect to 127.0.0.1:5432", "08001");

    Mono<String> startingUp = Mono.defer(() -> switch (attempts.incrementAndGet()) {
      case 1, 2 -> Mono.error(slow);
      case 3 -> Mono.error(refused);
      default -> Mono.just("schema ready");
    });

    StepVerifier.create(DatabaseWait.untilReachable(startingUp, Duration.ofMillis(1), Duration.ofMillis(5)))
        .expectNext("schema ready").verifyComplete();
    assertThat(attempts).hasValue(4);
  }

  @Test
  void aWrongPasswordStopsTheStartAtOnce() {
    AtomicInteger attempts = new AtomicInteger();
    RuntimeException denied = new R2dbcPermissionDeniedException("password authentication failed", "28P01");

    StepVerifier.create(DatabaseWait.untilReachable(database(attempts, 5, denied), Duration.ofMillis(1),
            Duration.ofMillis(5)))
        .expectErrorMatches(e -> e == denied).verify();
    assertThat(attempts).hasValue(1);
  }
}

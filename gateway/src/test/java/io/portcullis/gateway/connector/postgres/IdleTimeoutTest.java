package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The read's "no row for this long" guard: one periodic check per read instead of a timer per row. */
class IdleTimeoutTest {

  @Test
  void aReadThatSendsNoRowFailsWithATimeoutAndIsCancelled() {
    AtomicBoolean cancelled = new AtomicBoolean();
    StepVerifier.create(PostgresReader.idleTimeout(Flux.<Integer>never().doOnCancel(() -> cancelled.set(true)),
            Duration.ofMillis(50)))
        .expectError(TimeoutException.class)
        .verify(Duration.ofSeconds(5));
    assertThat(cancelled).isTrue();
  }

  @Test
  void aReadWhoseRowsKeepComingOutlivesTheTimeout() {
    // 120 rows 10 ms apart: 1.2 s in all, three times the timeout, and never 400 ms without a row (a margin a busy
    // CI machine does not eat; the check compares the wall clock, so virtual time would not test it)
    StepVerifier.create(PostgresReader.idleTimeout(Flux.interval(Duration.ofMillis(10)).take(120),
            Duration.ofMillis(400)))
        .expectNextCount(120)
        .verifyComplete();
  }

  @Test
  void aReadThatStallsMidStreamFailsAfterTheRowsItSent() {
    Flux<Long> stalls = Flux.interval(Duration.ofMillis(5)).take(3).concatWith(Flux.never());
    StepVerifier.create(PostgresReader.idleTimeout(stalls, Duration.ofMillis(400)))
        .expectNextCount(3)
        .expectError(TimeoutException.class)
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void theCheckIntervalIsAQuarterOfTheTimeoutWithinBounds() {
    assertThat(PostgresReader.idleCheckInterval(Duration.ofMillis(500))).isEqualTo(Duration.ofMillis(125));
    assertThat(PostgresReader.idleCheckInterval(Duration.ofSeconds(15))).isEqualTo(Duration.ofSeconds(1));
    assertThat(PostgresReader.idleCheckInterval(Duration.ofMillis(8))).isEqualTo(Duration.ofMillis(10));
  }
}

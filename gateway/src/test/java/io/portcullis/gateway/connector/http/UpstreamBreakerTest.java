package io.portcullis.gateway.connector.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import reactor.netty.channel.AbortedException;

/** What opens a route's circuit breaker, with the breaker configuration the gateway wires. */
class UpstreamBreakerTest {
  static final HttpUpstreamProperties PROPERTIES = new HttpUpstreamProperties(DataSize.ofMegabytes(1),
      DataSize.ofKilobytes(64), 2, Duration.ofMillis(100), 50, 10, 5, Duration.ofSeconds(10), Duration.ofSeconds(1));

  static CircuitBreaker breakerAfter(Throwable failure, int times) {
    CircuitBreaker breaker = HttpUpstreamConfiguration.breakers(PROPERTIES).circuitBreaker("crm");
    for (int i = 0; i < times; i++) {
      breaker.onError(1, TimeUnit.MILLISECONDS, failure);
    }
    return breaker;
  }

  @Test
  void staleKeepAliveConnectionsDoNotOpenTheBreaker() {
    // what Reactor Netty raises when a pooled connection was closed by the upstream before the request went out,
    // wrapped the way the routing filter hands it on
    Throwable stale = new IllegalStateException("routing failed", AbortedException.beforeSend());

    assertThat(GovernedUpstreamFilter.closedBeforeSend(stale)).isTrue();
    assertThat(breakerAfter(stale, 50).getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void clientsHangingUpDuringTheirAnswersDoNotOpenTheBreaker() {
    // a load generator stopping with requests in flight: the write to our own client fails
    Throwable gone = new GovernedUpstreamFilter.ClientGone(new AbortedException("Connection has been closed"));

    assertThat(breakerAfter(gone, 50).getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void anUnreachableUpstreamStillOpensIt() {
    Throwable refused = new IOException("Connection refused");

    assertThat(GovernedUpstreamFilter.closedBeforeSend(refused)).isFalse();
    assertThat(breakerAfter(refused, 10).getState()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void aConnectionResetAfterSendingIsAFailureOfTheUpstream() {
    Throwable reset = new AbortedException("Connection reset by peer");

    assertThat(breakerAfter(reset, 10).getState()).isEqualTo(CircuitBreaker.State.OPEN);
  }
}

package io.portcullis.gateway.connector.http;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.portcullis.gateway.config.SnapshotHolder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/** Wiring of the HTTP upstream connector: routes from the policy snapshot, one circuit breaker per route, the filter. */
@Configuration(proxyBeanMethods = false)
class HttpUpstreamConfiguration {

  @Bean
  UpstreamRouteRepository upstreamRouteRepository(SnapshotHolder snapshots) {
    return new UpstreamRouteRepository(snapshots);
  }

  @Bean
  UpstreamRouteRefresher upstreamRouteRefresher(SnapshotHolder snapshots, ApplicationEventPublisher events,
      HttpUpstreamProperties properties) {
    return new UpstreamRouteRefresher(snapshots, events, properties.refreshInterval());
  }

  @Bean
  GovernedUpstreamFilter governedUpstreamFilter(HttpUpstreamProperties properties) {
    return new GovernedUpstreamFilter(upstreamJson(properties), breakers(properties), properties);
  }

  @Bean
  UpstreamReadTimeout upstreamReadTimeout() {
    return new UpstreamReadTimeout();
  }

  @Bean
  UpstreamResponseHeaders upstreamResponseHeaders() {
    return new UpstreamResponseHeaders();
  }

  /** Breakers are looked up by route id (created on first use), never per request. */
  static CircuitBreakerRegistry breakers(HttpUpstreamProperties properties) {
    return CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(properties.window())
        .minimumNumberOfCalls(properties.minimumCalls())
        .failureRateThreshold(properties.failureRate())
        .waitDurationInOpenState(properties.openFor())
        .permittedNumberOfCallsInHalfOpenState(1)
        .recordException(GovernedUpstreamFilter::recordedByBreaker)
        .build());
  }

  /**
   * The parser bounds are the memory bound: no string, name or number longer than a row may be, no deep nesting.
   * Duplicate keys are refused by {@link RowStreamFilter} itself, only where a repeat could reach the client (a row
   * must not say two things about one column): the parser's own detection checked every key of every object.
   */
  static JsonMapper upstreamJson(HttpUpstreamProperties properties) {
    int maxRow = (int) properties.maxRowSize().toBytes();
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxStringLength(maxRow)
            .maxNameLength(Math.min(maxRow, 64 * 1024))
            .maxNestingDepth(64)
            .build())
        .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
        .build();
    return JsonMapper.builder(factory).build();
  }
}

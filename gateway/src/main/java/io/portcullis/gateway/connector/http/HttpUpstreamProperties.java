package io.portcullis.gateway.connector.http;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The HTTP upstream connector's bounds and resilience settings (per route: the route's own {@code timeout}).
 *
 * @param maxRowSize         the largest single row object an upstream may send; larger fails the response
 * @param maxPrefixSize      how much of the body before the rows array is held back while looking for it
 * @param retries            retries of an idempotent read after a connection failure or a 502/503/504 (0 = none)
 * @param retryBackoff       the first retry's delay (doubling after)
 * @param failureRate        the failure percentage that opens a route's circuit breaker
 * @param window             the number of calls the failure rate is measured over
 * @param minimumCalls       calls before the failure rate counts
 * @param openFor            how long an open breaker refuses calls (also the {@code Retry-After} it sends)
 * @param refreshInterval    how often the route table checks for a new config version
 */
@ConfigurationProperties("portcullis.http-upstream")
public record HttpUpstreamProperties(
    @DefaultValue("1MB") DataSize maxRowSize,
    @DefaultValue("64KB") DataSize maxPrefixSize,
    @DefaultValue("2") int retries,
    @DefaultValue("100ms") Duration retryBackoff,
    @DefaultValue("50") float failureRate,
    @DefaultValue("10") int window,
    @DefaultValue("5") int minimumCalls,
    @DefaultValue("10s") Duration openFor,
    @DefaultValue("1s") Duration refreshInterval) {

  public HttpUpstreamProperties {
    if (maxRowSize.toBytes() <= 0 || maxRowSize.toBytes() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxRowSize: " + maxRowSize + " (expected: > 0 and < 2GB)");
    }
    if (maxPrefixSize.toBytes() <= 0) {
      throw new IllegalArgumentException("maxPrefixSize: " + maxPrefixSize + " (expected: > 0)");
    }
    if (retries < 0) {
      throw new IllegalArgumentException("retries: " + retries + " (expected: >= 0)");
    }
    if (failureRate <= 0 || failureRate > 100) {
      throw new IllegalArgumentException("failureRate: " + failureRate + " (expected: > 0 and <= 100)");
    }
    if (window <= 0 || minimumCalls <= 0) {
      throw new IllegalArgumentException("window: " + window + ", minimumCalls: " + minimumCalls + " (expected: > 0)");
    }
    if (openFor.isNegative() || openFor.isZero() || refreshInterval.isNegative() || refreshInterval.isZero()) {
      throw new IllegalArgumentException("openFor: " + openFor + ", refreshInterval: " + refreshInterval
          + " (expected: > 0)");
    }
  }
}

package io.portcullis.gateway.quota;

import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.gateway.pipeline.RateLimitHeaders;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.pipeline.StageOrder;
import io.portcullis.policy.TokenClaims;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * DESIGN.md §6: every response carries RateLimit-*. The quota stage sets them on what reaches it; a request of a
 * known app refused before it (policy 403, unknown dataset 404, 405, tier-2 audit-down 503) gets its app's bucket as
 * it stands — read, not consumed: a refused request is not charged to the rate, so the headers do not change what it
 * allows. With Redis that read is the request's one round trip (the quota stage never ran).
 */
final class RateLimitHeaderStage implements WebFilter, Ordered {

  private static final Logger log = LoggerFactory.getLogger(RateLimitHeaderStage.class);

  private final GovernedPaths governed;
  private final QuotaStage quota;
  private final boolean enabled;

  RateLimitHeaderStage(GovernedPaths governed, QuotaStage quota, boolean enabled) {
    this.governed = governed;
    this.quota = quota;
    this.enabled = enabled;
  }

  @Override
  public int getOrder() {
    return StageOrder.RATE_LIMIT_HEADERS;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (!enabled || !governed.isGoverned(exchange)) {
      return chain.filter(exchange);
    }
    return chain.filter(exchange).onErrorResume(error -> {
      ServerHttpResponse response = exchange.getResponse();
      HttpHeaders headers = response.getHeaders();
      TokenClaims claims = RequestContext.of(exchange).claims();
      if (claims == null || response.isCommitted() || RateLimitHeaders.present(headers)) {
        return Mono.error(error);
      }
      return quota.peek(claims)
          .doOnNext(p -> RateLimitHeaders.set(headers, p.limit(), p.remaining(), p.resetSeconds()))
          .onErrorResume(e -> {
            // the refusal itself matters more than its headers: answer it without them
            log.debug("no RateLimit headers for a refused request: {}", e.toString());
            return Mono.empty();
          })
          .then(Mono.error(error));
    });
  }
}

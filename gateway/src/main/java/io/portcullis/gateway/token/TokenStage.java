package io.portcullis.gateway.token;

import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.broker.TokenError;
import io.portcullis.broker.TokenRejectedException;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.gateway.pipeline.RateLimitHeaders;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.pipeline.StageOrder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import java.util.List;
import java.util.Map;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/** Stage 1: a governed request must carry a valid, unrevoked access token of an active app (DESIGN.md §1, §5). */
@Component
final class TokenStage implements WebFilter, Ordered {

  private static final String BEARER = "Bearer ";

  private final AccessTokenVerifier verifier;
  private final GovernedPaths governed;
  private final InvalidTokenLimiter limiter;

  TokenStage(AccessTokenVerifier verifier, GovernedPaths governed, TokenProperties properties) {
    this.verifier = verifier;
    this.governed = governed;
    this.limiter = new InvalidTokenLimiter(properties.maxInvalidPerAddress(), properties.invalidWindow());
  }

  @Override
  public int getOrder() {
    return StageOrder.TOKEN;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (!governed.isGoverned(exchange)) {
      return chain.filter(exchange);
    }
    RequestContext ctx = RequestContext.of(exchange);
    String address = ctx.clientIp();
    String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
    if (header == null || header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return refuse(exchange, address, new ProblemException(ProblemCode.INVALID_TOKEN, "a Bearer access token is required"));
    }
    if (limiter.blocked(address)) {
      return refuse(exchange, address, new ProblemException(ProblemCode.RATE_LIMITED,
          "too many invalid tokens from this address", null, List.of(),
          Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(limiter.retryAfterSeconds()))));
    }
    return verifier.verify(header.substring(BEARER.length()).trim())
        .onErrorResume(TokenRejectedException.class, e -> {
          if (e.error() == TokenError.INVALID_TOKEN) {
            limiter.failed(address);
          }
          return refuse(exchange, address, toProblem(e));
        })
        .flatMap(claims -> {
          ctx.claims(claims);
          return chain.filter(exchange);
        });
  }

  /**
   * Until a token names the app, the only limit that applies to the caller is its address's allowance of invalid
   * tokens: that is what the RateLimit-* headers of a token refusal describe (DESIGN.md §6 wants them on every
   * response; an app's bucket cannot be named before its token is verified).
   */
  private <T> Mono<T> refuse(ServerWebExchange exchange, String address, ProblemException problem) {
    RateLimitHeaders.set(exchange.getResponse().getHeaders(), limiter.limit(), limiter.remaining(address),
        limiter.resetSeconds(address));
    return Mono.error(problem);
  }

  private static ProblemException toProblem(TokenRejectedException e) {
    ProblemCode code = switch (e.error()) {
      case TOKEN_EXPIRED -> ProblemCode.TOKEN_EXPIRED;
      case TOKEN_REVOKED -> ProblemCode.TOKEN_REVOKED;
      case APP_PAUSED -> ProblemCode.APP_PAUSED;
      case INVALID_TOKEN -> ProblemCode.INVALID_TOKEN;
    };
    return new ProblemException(code, e.detail());
  }
}

package io.portcullis.gateway.token;

import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.broker.TokenError;
import io.portcullis.broker.TokenRejectedException;
import io.portcullis.gateway.pipeline.GovernedPaths;
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
    String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
    if (header == null || header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return Mono.error(new ProblemException(ProblemCode.INVALID_TOKEN, "a Bearer access token is required"));
    }
    RequestContext ctx = RequestContext.of(exchange);
    String address = ctx.clientIp();
    if (limiter.blocked(address)) {
      return Mono.error(new ProblemException(ProblemCode.RATE_LIMITED,
          "too many invalid tokens from this address", null, List.of(),
          Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(limiter.retryAfterSeconds()))));
    }
    return verifier.verify(header.substring(BEARER.length()).trim())
        .doOnError(TokenRejectedException.class, e -> {
          if (e.error() == TokenError.INVALID_TOKEN) {
            limiter.failed(address);
          }
        })
        .onErrorMap(TokenRejectedException.class, TokenStage::toProblem)
        .flatMap(claims -> {
          ctx.claims(claims);
          return chain.filter(exchange);
        });
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

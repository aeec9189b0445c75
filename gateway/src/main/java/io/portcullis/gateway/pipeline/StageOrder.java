package io.portcullis.gateway.pipeline;

import org.springframework.core.Ordered;

/**
 * The order of the request stages (DESIGN.md §1), in one place. The stages are {@code WebFilter}s rather than
 * Spring Cloud Gateway {@code GlobalFilter}s because they must wrap both the PostgreSQL data handler and the SCG
 * upstream routes, and the lifecycle stage must see every request — including those no route matches.
 */
public final class StageOrder {

  /** Request id, problem rendering, the one audit event per request: outermost, so it sees the final status. */
  public static final int LIFECYCLE = Ordered.HIGHEST_PRECEDENCE + 100;
  public static final int TOKEN = LIFECYCLE + 100;
  /**
   * Inside the token stage (the app is known), around everything after it: adds the app's RateLimit-* headers to
   * answers that end before the quota stage (policy 403/404/405, audit-down 503).
   */
  public static final int RATE_LIMIT_HEADERS = TOKEN + 50;
  public static final int POLICY = TOKEN + 100;
  public static final int QUOTA = POLICY + 100;

  private StageOrder() {
  }
}

package io.portcullis.gateway.pipeline;

import org.springframework.http.HttpHeaders;

/**
 * {@code RateLimit-Limit}, {@code RateLimit-Remaining}, {@code RateLimit-Reset} (draft-ietf-httpapi-ratelimit-headers,
 * DESIGN.md §6: on every response). Which limit they describe depends on how far the request got: once the token
 * names the app, the app's bucket (quota stage); before that, the per-address invalid-token limit (token stage),
 * the only limit an unauthenticated caller is subject to.
 */
public final class RateLimitHeaders {

  public static final String LIMIT = "RateLimit-Limit";
  public static final String REMAINING = "RateLimit-Remaining";
  public static final String RESET = "RateLimit-Reset";

  private RateLimitHeaders() {
  }

  /** {@code limit} units in all, {@code remaining} left now, {@code resetSeconds} until the limit is whole again. */
  public static void set(HttpHeaders headers, long limit, long remaining, long resetSeconds) {
    headers.set(LIMIT, Long.toString(limit));
    headers.set(REMAINING, Long.toString(Math.max(0, remaining)));
    headers.set(RESET, Long.toString(Math.max(0, resetSeconds)));
  }

  public static boolean present(HttpHeaders headers) {
    return headers.getFirst(LIMIT) != null;
  }
}

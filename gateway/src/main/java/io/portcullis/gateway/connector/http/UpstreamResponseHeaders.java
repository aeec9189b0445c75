package io.portcullis.gateway.connector.http;

import java.util.List;
import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;

/**
 * What Spring Cloud Gateway copies from an upstream's response headers onto ours: its {@code Content-Type} alone. The
 * governed answer is the gateway's, not the upstream's (DESIGN.md §1 stage 4): {@link GovernedUpstreamFilter} reads the
 * type (is the body JSON?) and then drops it, so no upstream header ever reaches the client. Every SCG route in
 * Portcullis is a governed upstream route ({@link UpstreamRouteRepository}).
 *
 * <p>The upstream's {@code Content-Length} goes to an exchange attribute instead ({@link #UPSTREAM_CONTENT_LENGTH}: did
 * a 2xx declare an empty body, or did a stale connection cut it?), never into our headers: seeing a length there,
 * Spring Cloud Gateway's routing filter removes our {@code Transfer-Encoding: chunked}, and the filtered body, whose
 * length nobody knows in advance, then went out close-delimited — every governed answer ended its keep-alive
 * connection (load-tests/RESULTS.md).
 *
 * <p>First in the header filter chain, so the filters after it (hop-by-hop, forwarded) see at most one header
 * instead of every upstream header, and nothing else is added to the response only to be removed again: that copying,
 * filtering and removing was ≈ 6 % of the request path's Java samples (JFR, load-tests/RESULTS.md).
 */
final class UpstreamResponseHeaders implements HttpHeadersFilter, Ordered {

  static final List<String> KEPT = List.of(HttpHeaders.CONTENT_TYPE);

  /** The upstream answer's declared {@code Content-Length}, as sent (absent when it declared none). */
  static final String UPSTREAM_CONTENT_LENGTH = UpstreamResponseHeaders.class.getName() + ".contentLength";

  @Override
  public HttpHeaders filter(HttpHeaders input, ServerWebExchange exchange) {
    HttpHeaders kept = new HttpHeaders();
    for (String name : KEPT) {
      String value = input.getFirst(name);
      if (value != null) {
        kept.set(name, value);
      }
    }
    String length = input.getFirst(HttpHeaders.CONTENT_LENGTH);
    if (length != null) {
      exchange.getAttributes().put(UPSTREAM_CONTENT_LENGTH, length);
    } else {
      exchange.getAttributes().remove(UPSTREAM_CONTENT_LENGTH); // a retry's answer is judged on its own
    }
    return kept;
  }

  @Override
  public boolean supports(Type type) {
    return type == Type.RESPONSE;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }
}

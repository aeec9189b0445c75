package io.portcullis.gateway.pipeline;

import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;

/**
 * Which requests pass through the governed stages: the data API and the admin-configured upstream route prefixes.
 * The broker's endpoints, JWKS and actuator are not data access and are not governed here.
 */
@Component
public final class GovernedPaths {

  public boolean isGoverned(ServerWebExchange exchange) {
    return exchange.getRequest().getPath().value().startsWith(DataTarget.PREFIX);
  }

  /** Requests the lifecycle stage audits: everything but the broker (it audits its own events) and ops probes. */
  public boolean isAudited(ServerWebExchange exchange) {
    String path = exchange.getRequest().getPath().value();
    return !(path.startsWith("/actuator") || path.startsWith("/.well-known/") || path.startsWith("/oauth2/")
        || path.equals("/favicon.ico"));
  }
}

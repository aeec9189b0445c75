package io.portcullis.gateway.pipeline;

import org.springframework.http.server.reactive.AbstractServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;
import reactor.netty.Connection;

/**
 * Whether the client of an exchange has gone away. A failure that reaches the lifecycle stage after the answer has
 * started can be the upstream's (it broke off mid-body) or the client's (it hung up while being written to); only the
 * state of our own connection to the client tells them apart, whatever exception the write surfaced as.
 */
final class ClientConnection {

  private ClientConnection() {
  }

  /** True when the client's connection is known to be closed; false when it is open or cannot be told. */
  static boolean gone(ServerWebExchange exchange) {
    ServerHttpRequest request = exchange.getRequest();
    while (request instanceof ServerHttpRequestDecorator decorator) {
      request = decorator.getDelegate();
    }
    if (request instanceof AbstractServerHttpRequest server
        && server.getNativeRequest() instanceof Connection connection) {
      return !connection.channel().isActive();
    }
    return false;
  }
}

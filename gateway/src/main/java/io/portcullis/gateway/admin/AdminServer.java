package io.portcullis.gateway.admin;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The admin API's own HTTP server on its own port (DESIGN.md §8), so it can be bound to an internal interface and
 * never share a listener, a route table or a filter chain with the data plane.
 */
public final class AdminServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  private final HttpHandler handler;
  private final String host;
  private final int port;
  private volatile DisposableServer server;

  AdminServer(HttpHandler handler, String host, int port) {
    this.handler = handler;
    this.host = host;
    this.port = port;
  }

  @Override
  public void start() {
    server = HttpServer.create().host(host).port(port).handle(new ReactorHttpHandlerAdapter(handler)).bindNow();
    log.info("Admin API on http://{}:{}/admin", host, server.port());
  }

  @Override
  public void stop() {
    DisposableServer s = server;
    if (s != null) {
      s.disposeNow(Duration.ofSeconds(10));
      server = null;
    }
  }

  @Override
  public boolean isRunning() {
    return server != null;
  }

  /** The bound port (differs from the configured one when that is 0). */
  public int port() {
    DisposableServer s = server;
    return s == null ? -1 : s.port();
  }
}

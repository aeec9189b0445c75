package io.portcullis.gateway.connector.http;

import java.time.Duration;
import org.springframework.cloud.gateway.config.HttpClientCustomizer;
import reactor.netty.http.client.HttpClient;

/**
 * Bounds the silence between two reads of an upstream's answer — before its headers and inside its body — by the
 * route's timeout, with Reactor Netty's per-request response timeout (a read-timeout handler on the upstream
 * connection while the response is read, reset by every read: no timer per body chunk). Spring Cloud Gateway's own
 * route response timeout ends at the response headers, so an upstream that sent its first rows and then went silent
 * held the client's request for as long as the upstream kept the connection open. The route's timeout reaches the
 * HTTP client's request hook in the Reactor context written by {@link GovernedUpstreamFilter}.
 */
final class UpstreamReadTimeout implements HttpClientCustomizer {

  static final String CONTEXT_KEY = UpstreamReadTimeout.class.getName();

  @Override
  public HttpClient customize(HttpClient client) {
    return client.doOnRequest((request, connection) -> {
      if (request.currentContextView().getOrDefault(CONTEXT_KEY, null) instanceof Duration timeout) {
        request.responseTimeout(timeout);
      }
    });
  }
}

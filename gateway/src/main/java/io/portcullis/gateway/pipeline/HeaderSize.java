package io.portcullis.gateway.pipeline;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import reactor.netty.http.server.HttpServerRequest;

/** The size of a request's header section as the HTTP decoder counted it: per field name + ": " + value + CRLF. */
final class HeaderSize {

  private static final int FIELD_OVERHEAD = 4;

  private HeaderSize() {
  }

  static long of(ServerHttpRequest request) {
    if (nativeRequest(request) instanceof HttpServerRequest netty) {
      // Netty's own header entries: no String or List is built for the count (this runs on every request)
      long size = 0;
      Iterator<Map.Entry<CharSequence, CharSequence>> it = netty.requestHeaders().iteratorCharSequence();
      while (it.hasNext()) {
        Map.Entry<CharSequence, CharSequence> field = it.next();
        size += field.getKey().length() + field.getValue().length() + FIELD_OVERHEAD;
      }
      return size;
    }
    long[] size = {0};
    request.getHeaders().forEach((String name, List<String> values) -> {
      for (String value : values) {
        size[0] += name.length() + value.length() + FIELD_OVERHEAD;
      }
    });
    return size[0];
  }

  private static @Nullable Object nativeRequest(ServerHttpRequest request) {
    try {
      return ServerHttpRequestDecorator.getNativeRequest(request);
    } catch (IllegalArgumentException | IllegalStateException notOnAServer) {
      return null; // a mock request in a unit test
    }
  }
}

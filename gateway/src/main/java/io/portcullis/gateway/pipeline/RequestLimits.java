package io.portcullis.gateway.pipeline;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code portcullis.request.*}: what a request may bring before any stage works for it.
 *
 * @param maxHeaderSize the header fields together (each name, value, {@code ": "} and CRLF) above which a request is
 *                      answered 431 {@code headers_too_large} and audited, before its token is looked at. Tokens are
 *                      capped at 8 KiB on their own, so the default leaves room for one plus ordinary headers. Keep it
 *                      below {@code server.max-http-request-header-size}, the hard ceiling past which the HTTP decoder
 *                      itself refuses the request (answered by {@link HeaderCeilingHandler})
 */
@ConfigurationProperties("portcullis.request")
public record RequestLimits(@DefaultValue("16KB") DataSize maxHeaderSize) {

  public RequestLimits {
    if (maxHeaderSize.toBytes() < 1024) {
      throw new IllegalArgumentException(
          "portcullis.request.max-header-size: %s (expected: >= 1KB)".formatted(maxHeaderSize));
    }
  }
}

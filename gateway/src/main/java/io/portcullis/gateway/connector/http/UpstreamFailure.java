package io.portcullis.gateway.connector.http;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatusCode;

/**
 * Why an upstream answer cannot be relayed. The message is ours and safe to log: it never quotes the upstream's body
 * (a parser error excerpt could carry a row the policy hides). No stack trace: these are expected outcomes.
 */
final class UpstreamFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  enum Kind {
    /** The upstream answered a non-2xx status. */
    STATUS,
    /** The body is not JSON, not the configured shape, or over a size bound. */
    BODY
  }

  private final Kind kind;
  private final int status;

  private UpstreamFailure(Kind kind, int status, String message) {
    super(message, null, false, false);
    this.kind = kind;
    this.status = status;
  }

  static UpstreamFailure status(@Nullable HttpStatusCode status) {
    int code = status == null ? 0 : status.value();
    return new UpstreamFailure(Kind.STATUS, code, "the upstream answered status " + code);
  }

  static UpstreamFailure body(String message) {
    return new UpstreamFailure(Kind.BODY, 0, message);
  }

  Kind kind() {
    return kind;
  }

  /** The upstream status for {@link Kind#STATUS}, else 0. */
  int status() {
    return status;
  }
}

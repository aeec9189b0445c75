package io.portcullis.gateway.problem;

import org.springframework.http.HttpStatus;

/** The stable error codes of DESIGN.md §6; the one list clients can rely on. */
public enum ProblemCode {
  INVALID_TOKEN(HttpStatus.UNAUTHORIZED, "Invalid token"),
  TOKEN_EXPIRED(HttpStatus.UNAUTHORIZED, "Token expired"),
  TOKEN_REVOKED(HttpStatus.UNAUTHORIZED, "Token revoked"),
  APP_PAUSED(HttpStatus.FORBIDDEN, "App paused"),
  SCOPE_MISSING(HttpStatus.FORBIDDEN, "Scope missing"),
  POLICY_DENIED(HttpStatus.FORBIDDEN, "Denied by policy"),
  CONSENT_MISSING(HttpStatus.FORBIDDEN, "Consent missing"),
  APPROVAL_MISSING(HttpStatus.FORBIDDEN, "Approval missing"),
  UNKNOWN_DATASET(HttpStatus.NOT_FOUND, "Unknown dataset"),
  NOT_FOUND(HttpStatus.NOT_FOUND, "Not found"),
  METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed"),
  INVALID_QUERY(HttpStatus.BAD_REQUEST, "Invalid query"),
  INVALID_BODY(HttpStatus.UNPROCESSABLE_CONTENT, "Invalid body"),
  ILLEGAL_TRANSITION(HttpStatus.CONFLICT, "Illegal transition"),
  /** Admin API: {@code If-Match} names a config version that is no longer the newest (another admin came first). */
  VERSION_CONFLICT(HttpStatus.PRECONDITION_FAILED, "Config version conflict"),
  /** Admin API: a four-eyes change request approved by its own author. */
  SELF_APPROVAL(HttpStatus.FORBIDDEN, "Self-approval refused"),
  PAYLOAD_TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "Payload too large"),
  /** a form or text/plain body sent to a state-changing admin endpoint (what a cross-site form post would send) */
  UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
  /** RFC 6585: the header fields together exceed {@code portcullis.request.max-header-size}; refused before any stage. */
  HEADERS_TOO_LARGE(HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request header fields too large"),
  RATE_LIMITED(HttpStatus.TOO_MANY_REQUESTS, "Rate limited"),
  BUDGET_EXHAUSTED(HttpStatus.TOO_MANY_REQUESTS, "Budget exhausted"),
  QUERY_TOO_EXPENSIVE(HttpStatus.UNPROCESSABLE_CONTENT, "Query too expensive"),
  UPSTREAM_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "Upstream unavailable"),
  UPSTREAM_TIMEOUT(HttpStatus.GATEWAY_TIMEOUT, "Upstream timed out"),
  INTERNAL_ERROR(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error");

  private final HttpStatus status;
  private final String title;
  private final String code;

  ProblemCode(HttpStatus status, String title) {
    this.status = status;
    this.title = title;
    this.code = name().toLowerCase(java.util.Locale.ROOT);
  }

  public HttpStatus status() {
    return status;
  }

  public String title() {
    return title;
  }

  /** The wire code, e.g. {@code scope_missing}; {@code upstream_timeout} is sent as {@code upstream_unavailable} (504). */
  public String code() {
    return this == UPSTREAM_TIMEOUT ? "upstream_unavailable" : code;
  }
}

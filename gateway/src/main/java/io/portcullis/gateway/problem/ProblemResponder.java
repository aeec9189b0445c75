package io.portcullis.gateway.problem;

import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place that turns a failure into an RFC 9457 {@code application/problem+json} response. Unknown failures
 * become {@code internal_error} with no detail: the stack trace goes to the log, never to the client.
 */
@Component
public final class ProblemResponder {

  private static final Logger log = LoggerFactory.getLogger(ProblemResponder.class);
  public static final MediaType PROBLEM_JSON = MediaType.APPLICATION_PROBLEM_JSON;

  private final ObjectMapper json = JsonMapper.builder().build();

  /** Classifies any throwable as a problem. */
  public ProblemException classify(Throwable error) {
    if (error instanceof ProblemException p) {
      return p;
    }
    if (error instanceof ResponseStatusException rse) {
      HttpStatus status = HttpStatus.resolve(rse.getStatusCode().value());
      if (status == HttpStatus.NOT_FOUND) {
        return new ProblemException(ProblemCode.NOT_FOUND, "no such resource");
      }
      if (status == HttpStatus.METHOD_NOT_ALLOWED) {
        return new ProblemException(ProblemCode.METHOD_NOT_ALLOWED, "method not allowed here");
      }
      if (status == HttpStatus.CONTENT_TOO_LARGE) {
        return new ProblemException(ProblemCode.PAYLOAD_TOO_LARGE, "request body too large");
      }
      if (status != null && status.is4xxClientError()) {
        return new ProblemException(ProblemCode.INVALID_QUERY, "malformed request");
      }
    }
    if (error instanceof R2dbcTimeoutException || error instanceof TimeoutException) {
      return new ProblemException(ProblemCode.UPSTREAM_TIMEOUT, "the datastore did not answer in time",
          null, java.util.List.of(), Map.of(HttpHeaders.RETRY_AFTER, "1"));
    }
    if (error instanceof R2dbcTransientResourceException || isPoolExhausted(error)) {
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "the datastore is unavailable",
          null, java.util.List.of(), Map.of(HttpHeaders.RETRY_AFTER, "1"));
    }
    if (error instanceof R2dbcException r2dbc) {
      // SQL text and server messages stay in the log: they can name hidden columns.
      log.warn("datastore error {}: {}", r2dbc.getSqlState(), r2dbc.getMessage());
      return new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "the datastore could not answer",
          null, java.util.List.of(), Map.of(HttpHeaders.RETRY_AFTER, "1"));
    }
    log.error("unexpected failure", error);
    return new ProblemException(ProblemCode.INTERNAL_ERROR, "an internal error occurred");
  }

  private static boolean isPoolExhausted(Throwable error) {
    Throwable t = error;
    for (int depth = 0; t != null && depth < 5; depth++, t = t.getCause()) {
      if (t instanceof TimeoutException || t instanceof java.net.ConnectException) {
        return true;
      }
      String name = t.getClass().getName();
      if (name.startsWith("io.r2dbc.pool") || name.contains("PostgresConnectionClosedException")) {
        return true;
      }
    }
    return false;
  }

  /**
   * The RFC 9457 body of {@code problem}; {@code instance} is the request path, null when it is unknown (a request
   * refused before it was decoded).
   */
  public byte[] body(ProblemException problem, @Nullable String instance, String requestId) {
    ProblemCode code = problem.code();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "https://portcullis.dev/problems/" + code.code());
    body.put("title", code.title());
    body.put("status", code.status().value());
    body.put("code", code.code());
    body.put("detail", problem.detail());
    if (instance != null) {
      body.put("instance", instance);
    }
    body.put("request_id", requestId);
    if (problem.policy() != null) {
      body.put("policy", problem.policy());
    }
    if (!problem.violations().isEmpty()) {
      body.put("violations", problem.violations());
    }
    return json.writeValueAsBytes(body);
  }

  /** Writes the problem, unless the response is already committed (then the connection is simply closed). */
  public Mono<Void> write(ServerWebExchange exchange, ProblemException problem, String requestId) {
    ServerHttpResponse response = exchange.getResponse();
    if (response.isCommitted()) {
      return Mono.empty();
    }
    ProblemCode code = problem.code();
    response.setStatusCode(code.status());
    HttpHeaders headers = response.getHeaders();
    headers.setContentType(PROBLEM_JSON);
    headers.setCacheControl("no-store");
    problem.headers().forEach(headers::set);
    if (code.status() == HttpStatus.UNAUTHORIZED) {
      headers.set(HttpHeaders.WWW_AUTHENTICATE,
          "Bearer error=\"invalid_token\", error_description=\"" + code.code() + "\"");
    }
    byte[] bytes = body(problem, exchange.getRequest().getPath().value(), requestId);
    DataBuffer buffer = response.bufferFactory().wrap(bytes);
    headers.setContentLength(bytes.length);
    return response.writeWith(Mono.just(buffer));
  }
}

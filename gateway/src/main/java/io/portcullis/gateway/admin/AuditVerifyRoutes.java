package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditCheckpoint;
import io.portcullis.audit.VerificationReport;
import io.portcullis.audit.Violation;
import io.portcullis.gateway.audit.ChainVerifier;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@code GET /admin/audit/verify?chain=&from=&to=}: proves a range of an audit chain intact against its signed
 * checkpoints, or names the first altered, removed, inserted or reordered event (issue #7). 200 either way — the
 * check ran — with {@code ok} saying which; the keys are the ones {@code GET /admin/signing-keys} publishes. At most
 * {@link #MAX_SPAN} events per call ({@code to} defaults to that many after {@code from}); {@code next_from} pages on.
 */
final class AuditVerifyRoutes {

  /**
   * Events per call: the verifier holds the whole range in memory as decoded events, and a busy gateway's chain grows
   * by millions a day, so a bare call must not try to load all of it.
   */
  static final long MAX_SPAN = 50_000;

  private final @Nullable ChainVerifier verifier;
  private final String unavailable;

  /** @param verifier null when the events are not in PostgreSQL ({@code unavailable} says where they are) */
  AuditVerifyRoutes(@Nullable ChainVerifier verifier, String unavailable) {
    this.verifier = verifier;
    this.unavailable = unavailable;
  }

  RouterFunction<ServerResponse> routes(HandlerFilterFunction<ServerResponse, ServerResponse> adminOnly) {
    return RouterFunctions.route().GET("/admin/audit/verify", this::verify).filter(adminOnly).build();
  }

  Mono<ServerResponse> verify(ServerRequest request) {
    if (verifier == null) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, unavailable);
    }
    String chain = request.queryParam("chain").filter(c -> !c.isBlank()).orElse(verifier.ownChain());
    long from = request.queryParam("from").map(v -> seq(v, "from")).orElse(1L);
    long to = request.queryParam("to").map(v -> seq(v, "to"))
        .orElse(from > Long.MAX_VALUE - MAX_SPAN ? Long.MAX_VALUE : from + MAX_SPAN - 1);
    if (to < from || to - from >= MAX_SPAN) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "range: " + from + ".." + to + " (expected: from <= to, "
          + "at most " + MAX_SPAN + " events per call; verify a longer chain in slices with next_from)");
    }
    return verifier.verify(chain, from, to).flatMap(result -> ServerResponse.ok()
        .contentType(MediaType.APPLICATION_JSON).bodyValue(ConfigChanges.JSON.writeValueAsBytes(body(result))));
  }

  static Map<String, Object> body(ChainVerifier.Result result) {
    VerificationReport report = result.report();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ok", report.ok());
    body.put("chain_id", report.chainId());
    body.put("from_seq", report.fromSeq());
    body.put("to_seq", report.toSeq() == Long.MAX_VALUE ? null : report.toSeq());
    body.put("events_checked", report.eventsChecked());
    if (report.ok() && report.toSeq() != Long.MAX_VALUE
        && report.eventsChecked() == report.toSeq() - report.fromSeq() + 1) {
      body.put("next_from", report.toSeq() + 1); // the range was full: the chain may go on
    }
    body.put("signatures_checked", report.signaturesChecked());
    if (result.liveHead() != null) {
      body.put("live_head_seq", result.liveHead());
    }
    Set<Long> matched = new HashSet<>();
    report.matchedCheckpoints().forEach(cp -> matched.add(cp.seq()));
    List<Map<String, Object>> checkpoints = new ArrayList<>();
    for (AuditCheckpoint cp : report.checkpoints()) {
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("seq", cp.seq());
      c.put("head_hash", cp.headHash());
      c.put("count", cp.count());
      c.put("time", cp.time().toString());
      c.put("kid", cp.kid());
      c.put("matched", matched.contains(cp.seq()));
      checkpoints.add(c);
    }
    body.put("checkpoints", checkpoints);
    Violation v = report.violation();
    if (v != null) {
      Map<String, Object> violation = new LinkedHashMap<>();
      violation.put("kind", v.kind().name().toLowerCase(Locale.ROOT));
      violation.put("seq", v.seq());
      violation.put("event_id", v.eventId() == null ? null : v.eventId().toString());
      violation.put("detail", v.detail());
      body.put("violation", violation);
    } else {
      body.put("violation", null);
    }
    body.put("summary", report.render());
    return body;
  }

  private static long seq(String value, String name) {
    try {
      long n = Long.parseLong(value);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the problem below
    }
    throw new ProblemException(ProblemCode.INVALID_QUERY, name + ": " + value + " (expected: a seq >= 1)");
  }
}

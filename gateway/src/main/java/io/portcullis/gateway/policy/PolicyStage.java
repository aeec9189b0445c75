package io.portcullis.gateway.policy;

import io.portcullis.gateway.audit.AuditGate;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.pipeline.DataTarget;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.pipeline.StageOrder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.DecisionRequest;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.TokenClaims;
import java.time.Instant;
import org.springframework.core.Ordered;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Stage 2: the policy decision for this request, on the current precompiled snapshot (the hot path: a lookup and
 * an evaluation, no I/O). A deny ends the request with the code and the policies that decided.
 */
@Component
final class PolicyStage implements WebFilter, Ordered {

  private final SnapshotHolder snapshots;
  private final GovernedPaths governed;
  private final AuditGate auditGate;

  PolicyStage(SnapshotHolder snapshots, GovernedPaths governed, AuditGate auditGate) {
    this.snapshots = snapshots;
    this.governed = governed;
    this.auditGate = auditGate;
  }

  @Override
  public int getOrder() {
    return StageOrder.POLICY;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (!governed.isGoverned(exchange)) {
      return chain.filter(exchange);
    }
    ServerHttpRequest request = exchange.getRequest();
    DataTarget target = governed.target(request);
    if (target == null) {
      return Mono.error(new ProblemException(ProblemCode.METHOD_NOT_ALLOWED,
          request.getMethod() + " is not supported on " + request.getPath().value()));
    }
    RequestContext ctx = RequestContext.of(exchange);
    ctx.target(target.dataset(), target.id(), target.action());
    TokenClaims claims = ctx.claims();
    if (claims == null) {
      return Mono.error(new ProblemException(ProblemCode.INVALID_TOKEN, "no verified token"));
    }
    PolicySnapshot snapshot = snapshots.current();
    Decision decision = snapshot.decide(new DecisionRequest(claims, target.dataset(), target.action(),
        request.getMethod().name(), request.getPath().value(), ctx.clientIp(), Instant.now()));
    ctx.decision(decision, snapshot.dataset(target.dataset()));
    if (!decision.allowed()) {
      return Mono.error(PolicyProblems.toProblem(decision));
    }
    ProblemException auditDown = auditGate.refusal(claims); // tier 2 fails closed before touching data
    if (auditDown != null) {
      return Mono.error(auditDown);
    }
    return chain.filter(exchange);
  }
}

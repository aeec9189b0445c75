package io.portcullis.gateway.audit;

import com.nimbusds.jose.jwk.JWKSet;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditVerifier;
import io.portcullis.audit.VerificationReport;
import io.portcullis.audit.Violation;
import io.r2dbc.spi.ConnectionFactory;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * {@link AuditVerifier} over the PostgreSQL table with the keys that sign this gateway's checkpoints, plus what only a
 * running gateway knows: how far its own chain goes. Stored data alone cannot show that the newest events, those after
 * the last checkpoint, were deleted; this gateway's pipeline can, once it has flushed what it emitted.
 */
public final class ChainVerifier {

  private final AuditVerifier verifier;
  private final AuditPipeline pipeline;

  public ChainVerifier(ConnectionFactory connections, JWKSet publicKeys, AuditPipeline pipeline) {
    this.verifier = new AuditVerifier(connections, Objects.requireNonNull(publicKeys, "publicKeys"));
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
  }

  /** This gateway instance's chain. */
  public String ownChain() {
    return pipeline.chainId();
  }

  /**
   * Verifies {@code fromSeq..toSeq} of the chain. For this instance's own chain, everything emitted so far is flushed
   * first and a stored chain that ends before the pipeline's head is reported as {@link Violation.Kind#REMOVED}.
   */
  public Mono<Result> verify(String chainId, long fromSeq, long toSeq) {
    if (!chainId.equals(pipeline.chainId())) {
      return verifier.verify(chainId, fromSeq, toSeq).map(r -> new Result(r, null));
    }
    return Mono.defer(() -> {
      long head = pipeline.stats().lastSeq(); // every seq up to here is in the sink or the spill file after the flush
      return pipeline.flush().then(verifier.verify(chainId, fromSeq, toSeq)).map(report -> check(report, head));
    });
  }

  private Result check(VerificationReport report, long head) {
    // spilled events are not in the table yet: their absence proves nothing
    if (!report.ok() || pipeline.stats().spillBacklog() > 0 || head < report.fromSeq()) {
      return new Result(report, head);
    }
    long storedEnd = report.fromSeq() + report.eventsChecked() - 1;
    if (storedEnd >= Math.min(head, report.toSeq())) {
      return new Result(report, head);
    }
    return new Result(report.withViolation(new Violation(Violation.Kind.REMOVED, storedEnd + 1, null,
        "this gateway wrote its chain up to seq " + head + " but the table ends at seq " + storedEnd
            + ": the newest events were deleted")), head);
  }

  /** @param liveHead the running pipeline's last seq when the chain is this instance's own, else null */
  public record Result(VerificationReport report, @Nullable Long liveHead) {
  }
}

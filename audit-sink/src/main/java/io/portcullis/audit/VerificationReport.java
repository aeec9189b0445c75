package io.portcullis.audit;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of verifying one chain over a seq range. {@code signaturesChecked} is false when no public keys were
 * given: checkpoints then still pin their heads, but a forger could have written them. {@code checkpoints} are the
 * stored checkpoints in the range, by seq; {@link #matchedCheckpoints()} the ones that held.
 */
public record VerificationReport(String chainId, long fromSeq, long toSeq, long eventsChecked,
    boolean signaturesChecked, Violation violation, List<AuditCheckpoint> checkpoints) {

  public VerificationReport {
    Objects.requireNonNull(chainId, "chainId");
    checkpoints = List.copyOf(checkpoints);
  }

  public boolean ok() {
    return violation == null;
  }

  public int checkpointsChecked() {
    return checkpoints.size();
  }

  /**
   * The checkpoints that verified (signature, stored copy, count) and whose signed head is the stored event at their
   * seq: all of them when the range is intact, else those before the first violation (the verifier stops there).
   */
  public List<AuditCheckpoint> matchedCheckpoints() {
    return violation == null ? checkpoints
        : checkpoints.stream().filter(cp -> cp.seq() < violation.seq()).toList();
  }

  /** The same report with a violation found outside the stored range (e.g. a running gateway's newer head). */
  public VerificationReport withViolation(Violation v) {
    return new VerificationReport(chainId, fromSeq, toSeq, eventsChecked, signaturesChecked, v, checkpoints);
  }

  /** One line for a terminal or a log. */
  public String render() {
    String range = "chain " + chainId + " seq " + fromSeq + ".." + (toSeq == Long.MAX_VALUE ? "end" : toSeq);
    List<AuditCheckpoint> matched = matchedCheckpoints();
    String counts = eventsChecked + " events, " + checkpoints.size() + " checkpoints"
        + (checkpoints.isEmpty() ? "" : ", " + matched.size() + " matched"
            + (matched.isEmpty() ? "" : " (last at seq " + matched.get(matched.size() - 1).seq() + ")"))
        + (signaturesChecked ? "" : " (signatures NOT checked: no keys given)");
    return ok() ? "OK " + range + ": " + counts : "FAILED " + range + ": " + violation + " [" + counts + "]";
  }
}

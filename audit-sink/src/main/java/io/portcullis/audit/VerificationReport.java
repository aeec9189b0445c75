package io.portcullis.audit;

/**
 * The outcome of verifying one chain over a seq range. {@code signaturesChecked} is false when no public keys were
 * given: checkpoints then still pin their heads, but a forger could have written them.
 */
public record VerificationReport(String chainId, long fromSeq, long toSeq, long eventsChecked, int checkpointsChecked,
    boolean signaturesChecked, Violation violation) {

  public boolean ok() {
    return violation == null;
  }

  /** One line for a terminal or a log. */
  public String render() {
    String range = "chain " + chainId + " seq " + fromSeq + ".." + (toSeq == Long.MAX_VALUE ? "end" : toSeq);
    String counts = eventsChecked + " events, " + checkpointsChecked + " checkpoints"
        + (signaturesChecked ? "" : " (signatures NOT checked: no keys given)");
    return ok() ? "OK " + range + ": " + counts : "FAILED " + range + ": " + violation + " [" + counts + "]";
  }
}

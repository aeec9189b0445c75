package io.portcullis.audit;

import java.time.Instant;

/**
 * What {@link AuditQuery#find} selects; every criterion is optional (null = any). {@code from} is inclusive, {@code to}
 * exclusive. Build from {@link #ANY} with the {@code with…} methods.
 */
public record AuditFilter(String appId, String actorId, String dataset, Outcome outcome, Instant from, Instant to,
    boolean newestFirst) {

  public static final AuditFilter ANY = new AuditFilter(null, null, null, null, null, null, true);

  public AuditFilter withApp(String v) {
    return new AuditFilter(v, actorId, dataset, outcome, from, to, newestFirst);
  }

  public AuditFilter withActor(String v) {
    return new AuditFilter(appId, v, dataset, outcome, from, to, newestFirst);
  }

  /** The dataset: events with {@code resource_type = 'dataset'} and this name as {@code resource_id}. */
  public AuditFilter withDataset(String v) {
    return new AuditFilter(appId, actorId, v, outcome, from, to, newestFirst);
  }

  public AuditFilter withOutcome(Outcome v) {
    return new AuditFilter(appId, actorId, dataset, v, from, to, newestFirst);
  }

  public AuditFilter between(Instant fromInclusive, Instant toExclusive) {
    return new AuditFilter(appId, actorId, dataset, outcome, fromInclusive, toExclusive, newestFirst);
  }

  public AuditFilter oldestFirst() {
    return new AuditFilter(appId, actorId, dataset, outcome, from, to, false);
  }
}

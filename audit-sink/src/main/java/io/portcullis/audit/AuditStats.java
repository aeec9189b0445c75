package io.portcullis.audit;

/**
 * A snapshot of the pipeline's counters, for metrics. Counts are since start.
 *
 * @param queued events emitted and not yet sealed into a batch
 * @param written events written to the sink directly
 * @param spilled events written to the spill file (sink down or too slow)
 * @param replayed spilled events since written to the sink
 * @param spillBacklog events in the spill file not yet replayed
 * @param lagMillis age of the oldest event not yet in the sink or the spill file (0 when none)
 * @param checkpoints signed checkpoints stored
 * @param sinkHealthy false while the last sink write or probe failed
 * @param lastSeq the chain's last assigned seq
 */
public record AuditStats(long queued, long written, long spilled, long replayed, long spillBacklog, long lagMillis,
    long checkpoints, boolean sinkHealthy, long lastSeq) {}

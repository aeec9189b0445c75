package io.portcullis.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * A signed statement "chain {@code chainId} had head {@code headHash} at {@code seq}, {@code count} events after the
 * previous checkpoint, at {@code time}". {@code jws} is the compact JWS over exactly these values (see
 * {@link CheckpointSigner}); the other components are its stored, queryable copy, which the verifier compares.
 */
public record AuditCheckpoint(String chainId, long seq, String headHash, long count, Instant time, String kid,
    String jws) {

  public AuditCheckpoint {
    Objects.requireNonNull(chainId, "chainId");
    Objects.requireNonNull(headHash, "headHash");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(jws, "jws");
    time = time.truncatedTo(ChronoUnit.MICROS);
    if (seq < 1) {
      throw new IllegalArgumentException("seq: " + seq + " (expected: >= 1)");
    }
  }
}

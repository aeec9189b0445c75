package io.portcullis.audit;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Where signed checkpoints are kept; {@link PostgresCheckpointStore} is the one we ship. */
public interface CheckpointStore {

  Mono<Void> save(AuditCheckpoint checkpoint);

  /** The latest checkpoint of the chain, or empty. */
  Mono<AuditCheckpoint> latest(String chainId);

  /** The chain's checkpoints with {@code fromSeq <= seq <= toSeq}, by seq. */
  Flux<AuditCheckpoint> find(String chainId, long fromSeq, long toSeq);
}

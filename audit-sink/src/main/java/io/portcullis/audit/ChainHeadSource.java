package io.portcullis.audit;

import reactor.core.publisher.Mono;

/** Finds the persisted head of a chain, so a restarted instance continues its chain instead of forking it. */
public interface ChainHeadSource {

  /** The head, or empty when the chain has no event yet. */
  Mono<ChainHead> head(String chainId);
}

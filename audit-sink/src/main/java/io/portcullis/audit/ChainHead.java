package io.portcullis.audit;

import java.util.Objects;

/** The last event of a chain: its {@code seq} and {@code hash}, where a restarted instance continues. */
public record ChainHead(String chainId, long seq, String hash) {

  public ChainHead {
    Objects.requireNonNull(chainId, "chainId");
    Objects.requireNonNull(hash, "hash");
    if (seq < 0) {
      throw new IllegalArgumentException("seq: " + seq + " (expected: >= 0)");
    }
  }

  static ChainHead genesis(String chainId) {
    return new ChainHead(chainId, 0, HashChain.GENESIS);
  }
}

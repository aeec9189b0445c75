package io.portcullis.policy;

import java.time.Clock;
import java.util.Objects;

/**
 * How to compile a snapshot: the config {@code version} it will report, the HMAC key of the {@code hash} mask (keep
 * it stable across versions so pseudonyms stay joinable), and the clock used where a decision needs "now" and the
 * request carries no time.
 */
public record CompileOptions(long version, byte[] hashKey, Clock clock) {
  public CompileOptions {
    if (version < 0) {
      throw new IllegalArgumentException("version: %s (expected: >= 0)".formatted(version));
    }
    Objects.requireNonNull(hashKey, "hashKey");
    if (hashKey.length < 16) {
      throw new IllegalArgumentException("hashKey: %s bytes (expected: >= 16)".formatted(hashKey.length));
    }
    hashKey = hashKey.clone();
    Objects.requireNonNull(clock, "clock");
  }

  @Override
  public byte[] hashKey() {
    return hashKey.clone();
  }
}

package io.portcullis.gateway.config;

import io.portcullis.policy.PolicySnapshot;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy snapshot every request reads. A config change compiles a whole new snapshot off the request path and
 * swaps it in with one volatile write, so a request sees either the old or the new config, never a mix.
 */
public final class SnapshotHolder {

  private final AtomicReference<PolicySnapshot> current;

  public SnapshotHolder(PolicySnapshot initial) {
    this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
  }

  public PolicySnapshot current() {
    return current.get();
  }

  /** Installs a newer snapshot; an older or equal version (a late notification) is ignored. */
  public boolean install(PolicySnapshot next) {
    Objects.requireNonNull(next, "next");
    while (true) {
      PolicySnapshot now = current.get();
      if (next.version() <= now.version()) {
        return false;
      }
      if (current.compareAndSet(now, next)) {
        return true;
      }
    }
  }
}

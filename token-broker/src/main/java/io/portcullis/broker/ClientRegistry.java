package io.portcullis.broker;

import org.jspecify.annotations.Nullable;

/**
 * Where the broker looks clients up. The gateway implements it over its current policy snapshot (so a config change
 * takes effect on the next token request); the standalone broker over its configuration file.
 *
 * <p>Called on the event loop: implementations must not block.
 */
@FunctionalInterface
public interface ClientRegistry {

  @Nullable RegisteredClient find(String clientId);
}

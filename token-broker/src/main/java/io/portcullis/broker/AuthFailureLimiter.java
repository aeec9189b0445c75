package io.portcullis.broker;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Counts failed client authentications per client id and per remote address in fixed windows; once a key reaches its
 * limit, further attempts are refused before any secret is hashed, until the window (started by the first failure)
 * ends. Success only takes back its own attempt and never resets the counter: otherwise the legitimate client's
 * traffic would keep buying an attacker fresh guesses.
 *
 * <p>Counters live in bounded Caffeine caches: attacker-chosen client ids cannot grow memory without limit (the
 * address limit still applies to ids evicted early).
 */
final class AuthFailureLimiter {

  private final int maxPerClient;
  private final int maxPerAddress;
  private final Duration window;
  // The counter object is created once per window and mutated in place, so the entry's write time stays the window's
  // start and expireAfterWrite ends the window.
  private final Cache<String, AtomicInteger> byClient;
  private final Cache<String, AtomicInteger> byAddress;

  AuthFailureLimiter(int maxPerClient, int maxPerAddress, Duration window) {
    if (maxPerClient <= 0) {
      throw new IllegalArgumentException("maxPerClient: %s (expected: > 0)".formatted(maxPerClient));
    }
    if (maxPerAddress <= 0) {
      throw new IllegalArgumentException("maxPerAddress: %s (expected: > 0)".formatted(maxPerAddress));
    }
    this.maxPerClient = maxPerClient;
    this.maxPerAddress = maxPerAddress;
    this.window = window;
    this.byClient = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(window).build();
    this.byAddress = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(window).build();
  }

  /**
   * Counts an attempt before its (expensive) check, so a burst of concurrent guesses cannot all slip under the limit;
   * returns false — counting nothing — when the client id or the address has used up its window.
   */
  boolean tryBegin(@Nullable String clientId, String address) {
    AtomicInteger a = byAddress.get(address, k -> new AtomicInteger());
    AtomicInteger c = clientId == null ? null : byClient.get(clientId, k -> new AtomicInteger());
    if (a.incrementAndGet() > maxPerAddress) {
      a.decrementAndGet();
      return false;
    }
    if (c != null && c.incrementAndGet() > maxPerClient) {
      c.decrementAndGet();
      a.decrementAndGet();
      return false;
    }
    return true;
  }

  /** The attempt begun by {@link #tryBegin} authenticated: it does not count as a failure. */
  void succeeded(@Nullable String clientId, String address) {
    AtomicInteger a = byAddress.getIfPresent(address);
    if (a != null) {
      a.decrementAndGet();
    }
    AtomicInteger c = clientId == null ? null : byClient.getIfPresent(clientId);
    if (c != null) {
      c.decrementAndGet();
    }
  }

  Duration window() {
    return window;
  }
}

package io.portcullis.gateway.admin;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Single-use tickets for the ops event stream. {@code EventSource} cannot send an {@code Authorization} header, and an
 * access token in a URL ends up in logs and history; so the console trades its bearer token (POST) for an opaque
 * ticket that opens one stream within {@link #TTL} and is then gone. The stream itself ends when the token that
 * bought the ticket expires, is revoked, or its app is paused.
 */
final class OpsTickets {

  static final Duration TTL = Duration.ofSeconds(60);
  /** Outstanding tickets are capped so an admin token cannot grow the map without bound. */
  static final int MAX_OUTSTANDING = 1_000;

  /** {@code tokenId} and {@code clientId} of the admin token, so the stream can end when it is revoked or paused. */
  record Ticket(String adminId, String tokenId, String clientId, Instant expires, Instant tokenExpires) {
  }

  private final ConcurrentHashMap<String, Ticket> tickets = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  OpsTickets(Clock clock) {
    this.clock = clock;
  }

  /** A new ticket, or null when too many are outstanding. */
  @Nullable String issue(String adminId, String tokenId, String clientId, Instant tokenExpires) {
    Instant now = clock.instant();
    tickets.values().removeIf(t -> !t.expires().isAfter(now));
    if (tickets.size() >= MAX_OUTSTANDING) {
      return null;
    }
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tickets.put(id, new Ticket(adminId, tokenId, clientId, now.plus(TTL), tokenExpires));
    return id;
  }

  /** The ticket if it exists and has not expired; it is removed either way (one use). */
  @Nullable Ticket redeem(@Nullable String id) {
    if (id == null || id.isEmpty()) {
      return null;
    }
    Ticket t = tickets.remove(id);
    return t == null || !t.expires().isAfter(clock.instant()) ? null : t;
  }
}

package io.portcullis.broker;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The payload of a {@code portcullis_revocations} notification: one short line, well under PostgreSQL's 8000-byte
 * NOTIFY limit. {@code R <expEpochSeconds> <jti>}, {@code P <clientId>} (paused), {@code U <clientId>} (resumed).
 * The client id comes last so it may contain spaces.
 */
record RevocationNotice(char kind, @Nullable String jti, @Nullable Instant expiresAt, @Nullable String clientId) {

  static final String CHANNEL = "portcullis_revocations";

  static RevocationNotice revoked(String jti, Instant expiresAt) {
    return new RevocationNotice('R', jti, expiresAt, null);
  }

  static RevocationNotice paused(String clientId) {
    return new RevocationNotice('P', null, null, clientId);
  }

  static RevocationNotice resumed(String clientId) {
    return new RevocationNotice('U', null, null, clientId);
  }

  String encode() {
    return switch (kind) {
      case 'R' -> "R " + Objects.requireNonNull(expiresAt).getEpochSecond() + " " + jti;
      default -> kind + " " + clientId;
    };
  }

  /** Null for anything we did not write (another version's payload): the periodic resync covers it. */
  static @Nullable RevocationNotice decode(@Nullable String payload) {
    if (payload == null || payload.length() < 3 || payload.charAt(1) != ' ') {
      return null;
    }
    char kind = payload.charAt(0);
    String rest = payload.substring(2);
    switch (kind) {
      case 'R' -> {
        int sp = rest.indexOf(' ');
        if (sp <= 0 || sp == rest.length() - 1) {
          return null;
        }
        try {
          return revoked(rest.substring(sp + 1), Instant.ofEpochSecond(Long.parseLong(rest.substring(0, sp))));
        } catch (NumberFormatException e) {
          return null;
        }
      }
      case 'P' -> {
        return paused(rest);
      }
      case 'U' -> {
        return resumed(rest);
      }
      default -> {
        return null;
      }
    }
  }
}

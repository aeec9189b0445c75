package io.portcullis.broker;

import java.time.Instant;
import java.util.Set;

/** A minted access token and what the token response and the audit need to know about it. */
record IssuedToken(String accessToken, String jti, String subject, String clientId, Set<String> scopes, int tier,
    Instant issuedAt, Instant expiresAt, String kid) {

  long expiresInSeconds() {
    return expiresAt.getEpochSecond() - issuedAt.getEpochSecond();
  }

  String scope() {
    return String.join(" ", scopes);
  }

  @Override
  public String toString() {
    // Never print the bearer token itself.
    return "IssuedToken[jti=" + jti + ", subject=" + subject + ", clientId=" + clientId + ", scopes=" + scopes
        + ", expiresAt=" + expiresAt + ", kid=" + kid + "]";
  }
}

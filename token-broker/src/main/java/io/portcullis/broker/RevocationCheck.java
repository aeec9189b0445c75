package io.portcullis.broker;

/**
 * The revocation state a verifier consults on every call (not cached with the verified claims, so a revocation or a
 * pause takes effect on the very next request). {@link RevocationRegistry} is the PostgreSQL-fed implementation.
 */
public interface RevocationCheck {

  /** Nothing is ever revoked or paused (tests, a verifier that relies on other checks). */
  RevocationCheck NONE = new RevocationCheck() {
    @Override
    public boolean isRevoked(String jti) {
      return false;
    }

    @Override
    public boolean isPaused(String clientId) {
      return false;
    }
  };

  boolean isRevoked(String jti);

  boolean isPaused(String clientId);
}

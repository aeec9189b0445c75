package io.portcullis.broker;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.KeySpec;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Client-secret hashing: PBKDF2-HMAC-SHA256, format {@code pbkdf2-sha256$iterations$saltB64$hashB64}.
 *
 * <p>310,000 iterations is OWASP's 2023 floor for PBKDF2-HMAC-SHA256; one {@link #verify} costs ≈ 0.1–0.3 s of CPU,
 * so callers run it off the event loop and rate-limit failures (see {@code ClientAuthenticator}).
 */
public final class SecretHasher {

  public static final int ITERATIONS = 310_000;
  /** Refuse to verify against hashes weaker than this (a tampered or legacy config). */
  static final int MIN_ITERATIONS = 310_000;
  /** Bounds the work an attacker-controlled config line could cause. */
  static final int MAX_ITERATIONS = 10_000_000;

  private static final String PREFIX = "pbkdf2-sha256";
  private static final int SALT_BYTES = 16;
  private static final int HASH_BITS = 256;
  private static final SecureRandom RANDOM = new SecureRandom();

  private SecretHasher() {}

  public static String hash(char[] secret) {
    Objects.requireNonNull(secret, "secret");
    if (secret.length == 0) {
      throw new IllegalArgumentException("secret: empty (expected: at least one character)");
    }
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    byte[] dk = derive(secret, salt, ITERATIONS, HASH_BITS);
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return PREFIX + "$" + ITERATIONS + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(dk);
  }

  /**
   * Whether {@code secret} matches {@code hash}. A malformed or too-weak hash never matches (returns false rather
   * than throwing, so a bad config line cannot be told apart from a wrong secret by a caller).
   */
  public static boolean verify(char[] secret, String hash) {
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(hash, "hash");
    String[] parts = hash.split("\\$", -1);
    if (parts.length != 4 || !PREFIX.equals(parts[0])) {
      return false;
    }
    int iterations;
    byte[] salt;
    byte[] expected;
    try {
      iterations = Integer.parseInt(parts[1]);
      salt = Base64.getDecoder().decode(parts[2]);
      expected = Base64.getDecoder().decode(parts[3]);
    } catch (IllegalArgumentException malformed) {
      return false;
    }
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS || salt.length < 8 || expected.length < 16
        || expected.length > 64) {
      return false;
    }
    byte[] actual = derive(secret, salt, iterations, expected.length * 8);
    return MessageDigest.isEqual(actual, expected);
  }

  /** Whether {@code hash} is in the format this class writes (a config check, does no hashing). */
  public static boolean isWellFormed(String hash) {
    String[] parts = hash.split("\\$", -1);
    if (parts.length != 4 || !PREFIX.equals(parts[0])) {
      return false;
    }
    try {
      int iterations = Integer.parseInt(parts[1]);
      Base64.getDecoder().decode(parts[2]);
      Base64.getDecoder().decode(parts[3]);
      return iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS;
    } catch (IllegalArgumentException malformed) {
      return false;
    }
  }

  private static byte[] derive(char[] secret, byte[] salt, int iterations, int bits) {
    KeySpec spec = new PBEKeySpec(secret, salt, iterations, bits);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      // PBKDF2WithHmacSHA256 is mandatory in every Java SE platform since 8.
      throw new IllegalStateException(e);
    } finally {
      ((PBEKeySpec) spec).clearPassword();
    }
  }
}

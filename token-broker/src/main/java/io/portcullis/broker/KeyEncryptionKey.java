package io.portcullis.broker;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM key that encrypts signing private keys at rest. Each ciphertext is bound to its key id through the
 * associated data, so rows cannot be swapped in the table to make the broker sign with a key it did not publish
 * under that id.
 *
 * <p>Layout: {@code version(1) || nonce(12) || ciphertext+tag(16)}.
 */
public final class KeyEncryptionKey {

  private static final byte VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;

  private KeyEncryptionKey(byte[] raw) {
    this.key = new SecretKeySpec(raw, "AES");
  }

  /** From 32 raw bytes. */
  public static KeyEncryptionKey of(byte[] raw) {
    Objects.requireNonNull(raw, "raw");
    if (raw.length != 32) {
      throw new IllegalArgumentException("key-encryption key: %s bytes (expected: 32 for AES-256)".formatted(raw.length));
    }
    return new KeyEncryptionKey(raw.clone());
  }

  /** From base64 (standard or URL-safe) of 32 bytes, as given in configuration. */
  public static KeyEncryptionKey ofBase64(String base64) {
    Objects.requireNonNull(base64, "base64");
    byte[] raw;
    try {
      String s = base64.strip();
      raw = s.indexOf('-') >= 0 || s.indexOf('_') >= 0 ? Base64.getUrlDecoder().decode(s) : Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key-encryption key: not base64 (expected: base64 of 32 random bytes)");
    }
    try {
      return of(raw);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /** A random key (tests, or a first run that prints nothing and persists nothing: keys die with the process). */
  public static KeyEncryptionKey random() {
    byte[] raw = new byte[32];
    RANDOM.nextBytes(raw);
    return new KeyEncryptionKey(raw);
  }

  byte[] encrypt(String plaintext, String kid) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad(kid));
      byte[] ct = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.allocate(1 + NONCE_BYTES + ct.length).put(VERSION).put(nonce).put(ct).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  /** @throws IllegalStateException when the ciphertext was not made by this key for this kid */
  String decrypt(byte[] sealed, String kid) {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
      throw new IllegalStateException("signing key " + kid + ": unknown ciphertext format");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 1, NONCE_BYTES));
      cipher.updateAAD(aad(kid));
      byte[] pt = cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
      return new String(pt, StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new IllegalStateException(
          "signing key " + kid + ": cannot decrypt (wrong key-encryption key, or the row was altered)");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  private static byte[] aad(String kid) {
    return ("portcullis/signing-key/" + kid).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "KeyEncryptionKey[****]";
  }
}

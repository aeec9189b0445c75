package io.portcullis.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The per-instance hash chain: {@code hash = hex(SHA-256(prev_hash || canonical JSON without prev_hash and hash))},
 * the first event of a chain linking to {@link #GENESIS}. Not thread-safe: the pipeline's drain thread owns one.
 */
final class HashChain {

  static final String GENESIS = "0".repeat(64);
  private static final HexFormat HEX = HexFormat.of();

  private final String chainId;
  private long seq;
  private String head;

  HashChain(String chainId, long lastSeq, String headHash) {
    this.chainId = Objects.requireNonNull(chainId, "chainId");
    this.seq = lastSeq;
    this.head = Objects.requireNonNull(headHash, "headHash");
  }

  /** Places the event after the current head and makes it the new head. */
  AuditEvent append(AuditEvent event) {
    long next = seq + 1;
    AuditEvent placed = event.withChain(chainId, next, null, null);
    String hash = hash(head, placed);
    AuditEvent sealed = placed.withChain(chainId, next, head, hash);
    seq = next;
    head = hash;
    return sealed;
  }

  long seq() {
    return seq;
  }

  String head() {
    return head;
  }

  /** The hash an event should carry given its predecessor's hash; ignores the event's own prev_hash and hash. */
  static String hash(String prevHash, AuditEvent event) {
    MessageDigest sha = sha256();
    sha.update(prevHash.getBytes(StandardCharsets.US_ASCII));
    sha.update(AuditJson.hashedBytes(event));
    return HEX.formatHex(sha.digest());
  }

  /** Whether the event's stored hash matches its content and its own stored prev_hash. */
  static boolean selfConsistent(AuditEvent event) {
    return event.prevHash() != null && event.hash() != null && event.hash().equals(hash(event.prevHash(), event));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK ships SHA-256", e);
    }
  }
}

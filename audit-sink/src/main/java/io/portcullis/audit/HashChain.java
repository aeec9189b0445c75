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
    return seal(event).event();
  }

  /** A sealed event with its canonical JSON (the journal line and the sinks' payload). */
  record Sealed(AuditEvent event, byte[] json) {
  }

  /**
   * As {@link #append}, serialising the event once: its canonical JSON is written with placeholder links, the hash is
   * taken over those bytes less the two link members (exactly the canonical JSON without them: keys are sorted and
   * neither link is ever the first), and the placeholders are then overwritten in place with the real 64-digit links.
   * The quoted key {@code "prev_hash":"} cannot occur inside a string value, where every quote is escaped.
   */
  Sealed seal(AuditEvent event) {
    long next = seq + 1;
    // a head read back from a sink is trusted for its length and plain characters only: anything else, two passes
    Sealed sealed = head.length() == LINK_LENGTH && isAscii(head) ? sealOnce(event, next) : null;
    if (sealed == null) {
      AuditEvent placed = event.withChain(chainId, next, null, null);
      String hash = hash(head, placed);
      AuditEvent e = placed.withChain(chainId, next, head, hash);
      sealed = new Sealed(e, AuditJson.toJsonBytes(e));
    }
    seq = next;
    head = sealed.event().hash();
    return sealed;
  }

  private static final int LINK_LENGTH = 64;
  private static final String PLACEHOLDER = "~".repeat(LINK_LENGTH);
  private static final byte[] PREV_MEMBER = (",\"prev_hash\":\"" + PLACEHOLDER + '"').getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HASH_MEMBER = (",\"hash\":\"" + PLACEHOLDER + '"').getBytes(StandardCharsets.US_ASCII);
  /** Where the link's value starts within its member. */
  private static final int PREV_VALUE = PREV_MEMBER.length - 1 - LINK_LENGTH;
  private static final int HASH_VALUE = HASH_MEMBER.length - 1 - LINK_LENGTH;

  private Sealed sealOnce(AuditEvent event, long next) {
    byte[] json = AuditJson.toJsonBytes(event.withChain(chainId, next, PLACEHOLDER, PLACEHOLDER));
    int h = indexOf(json, HASH_MEMBER, 0);
    int p = indexOf(json, PREV_MEMBER, 0);
    if (h < 0 || p < 0 || h > p) {
      return null; // not the shape this relies on ("hash" sorts before "prev_hash"): the two-pass way
    }
    MessageDigest sha = sha256();
    sha.update(head.getBytes(StandardCharsets.US_ASCII));
    sha.update(json, 0, h);
    int afterHash = h + HASH_MEMBER.length;
    sha.update(json, afterHash, p - afterHash);
    int afterPrev = p + PREV_MEMBER.length;
    sha.update(json, afterPrev, json.length - afterPrev);
    String hash = HEX.formatHex(sha.digest());
    put(head, json, p + PREV_VALUE);
    put(hash, json, h + HASH_VALUE);
    return new Sealed(event.withChain(chainId, next, head, hash), json);
  }

  private static void put(String ascii, byte[] into, int at) {
    for (int i = 0; i < LINK_LENGTH; i++) {
      into[at + i] = (byte) ascii.charAt(i);
    }
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80 || s.charAt(i) == '"' || s.charAt(i) == '\\' || s.charAt(i) < 0x20) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from, last = haystack.length - needle.length; i <= last; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
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

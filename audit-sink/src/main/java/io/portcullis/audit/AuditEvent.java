package io.portcullis.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One audit event (DESIGN.md §7), immutable. JSON names are the snake_case of the component names
 * ({@code event_id}, {@code resource_type}, …); see {@link AuditJson} for the canonical form that is hashed.
 *
 * <p>The gateway fills an event through {@link #builder()} and hands it to {@link AuditPipeline#emit}; the pipeline sets
 * {@code chain_id}, {@code seq}, {@code prev_hash} and {@code hash}. Everything but {@code event_id}, {@code timestamp}
 * and {@code event_type} is nullable (a {@code token_revoked} event has no rows, a denied request no cost).
 *
 * <p>{@code timestamp} is truncated to microseconds on construction: that is what PostgreSQL's {@code timestamptz}
 * keeps, and the hash must survive a round trip through the table.
 */
public record AuditEvent(
    UUID eventId,
    Instant timestamp,
    EventType eventType,
    String requestId,
    String actorId,
    String actorRole,
    String appId,
    Integer tier,
    String action,
    String resourceType,
    String resourceId,
    String tokenId,
    List<String> policyIds,
    Long policyVersion,
    Outcome outcome,
    Integer status,
    String errorCode,
    Long rows,
    Long bytes,
    List<String> maskedColumns,
    String rowFilter,
    String queryFingerprint,
    Double costUnits,
    String costCenter,
    Double latencyMs,
    String clientIp,
    String chainId,
    Long seq,
    String prevHash,
    String hash) {

  public AuditEvent {
    Objects.requireNonNull(eventId, "eventId");
    Objects.requireNonNull(timestamp, "timestamp");
    Objects.requireNonNull(eventType, "eventType");
    timestamp = timestamp.truncatedTo(ChronoUnit.MICROS);
    policyIds = policyIds == null ? null : List.copyOf(policyIds);
    maskedColumns = maskedColumns == null ? null : List.copyOf(maskedColumns);
    if (costUnits != null && !Double.isFinite(costUnits)) {
      throw new IllegalArgumentException("costUnits: " + costUnits + " (expected: finite)");
    }
    if (latencyMs != null && !Double.isFinite(latencyMs)) {
      throw new IllegalArgumentException("latencyMs: " + latencyMs + " (expected: finite)");
    }
  }

  /** A builder with a fresh time-ordered {@code event_id}, {@code timestamp = now} and {@code event_type = request}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this event's values (chain fields included), to derive a changed copy. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** This event placed in a chain: the pipeline's and the verifier's business, not the gateway's. */
  AuditEvent withChain(String chainId, Long seq, String prevHash, String hash) {
    return new AuditEvent(eventId, timestamp, eventType, requestId, actorId, actorRole, appId, tier, action,
        resourceType, resourceId, tokenId, policyIds, policyVersion, outcome, status, errorCode, rows, bytes,
        maskedColumns, rowFilter, queryFingerprint, costUnits, costCenter, latencyMs, clientIp, chainId, seq,
        prevHash, hash);
  }

  /** This event without {@code prev_hash} and {@code hash}: what the hash covers. */
  AuditEvent withoutLinks() {
    if (prevHash == null && hash == null) {
      return this;
    }
    return new AuditEvent(eventId, timestamp, eventType, requestId, actorId, actorRole, appId, tier, action,
        resourceType, resourceId, tokenId, policyIds, policyVersion, outcome, status, errorCode, rows, bytes,
        maskedColumns, rowFilter, queryFingerprint, costUnits, costCenter, latencyMs, clientIp, chainId, seq,
        null, null);
  }

  /** A UUIDv7 (RFC 9562): time-ordered, so the unique index on event_id stays append-mostly. */
  static UUID newEventId(long epochMillis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (epochMillis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /** Fills an {@link AuditEvent} field by field; not thread-safe, build one per event. */
  public static final class Builder {
    private UUID eventId;
    private Instant timestamp;
    private EventType eventType = EventType.REQUEST;
    private String requestId;
    private String actorId;
    private String actorRole;
    private String appId;
    private Integer tier;
    private String action;
    private String resourceType;
    private String resourceId;
    private String tokenId;
    private List<String> policyIds;
    private Long policyVersion;
    private Outcome outcome;
    private Integer status;
    private String errorCode;
    private Long rows;
    private Long bytes;
    private List<String> maskedColumns;
    private String rowFilter;
    private String queryFingerprint;
    private Double costUnits;
    private String costCenter;
    private Double latencyMs;
    private String clientIp;
    private String chainId;
    private Long seq;
    private String prevHash;
    private String hash;

    Builder() {}

    Builder(AuditEvent e) {
      eventId = e.eventId;
      timestamp = e.timestamp;
      eventType = e.eventType;
      requestId = e.requestId;
      actorId = e.actorId;
      actorRole = e.actorRole;
      appId = e.appId;
      tier = e.tier;
      action = e.action;
      resourceType = e.resourceType;
      resourceId = e.resourceId;
      tokenId = e.tokenId;
      policyIds = e.policyIds;
      policyVersion = e.policyVersion;
      outcome = e.outcome;
      status = e.status;
      errorCode = e.errorCode;
      rows = e.rows;
      bytes = e.bytes;
      maskedColumns = e.maskedColumns;
      rowFilter = e.rowFilter;
      queryFingerprint = e.queryFingerprint;
      costUnits = e.costUnits;
      costCenter = e.costCenter;
      latencyMs = e.latencyMs;
      clientIp = e.clientIp;
      chainId = e.chainId;
      seq = e.seq;
      prevHash = e.prevHash;
      hash = e.hash;
    }

    public Builder eventId(UUID v) { eventId = v; return this; }
    public Builder timestamp(Instant v) { timestamp = v; return this; }
    public Builder eventType(EventType v) { eventType = v; return this; }
    public Builder requestId(String v) { requestId = v; return this; }
    public Builder actorId(String v) { actorId = v; return this; }
    public Builder actorRole(String v) { actorRole = v; return this; }
    public Builder appId(String v) { appId = v; return this; }
    public Builder tier(Integer v) { tier = v; return this; }
    public Builder action(String v) { action = v; return this; }
    public Builder resourceType(String v) { resourceType = v; return this; }
    public Builder resourceId(String v) { resourceId = v; return this; }
    public Builder tokenId(String v) { tokenId = v; return this; }
    public Builder policyIds(List<String> v) { policyIds = v; return this; }
    public Builder policyVersion(Long v) { policyVersion = v; return this; }
    public Builder outcome(Outcome v) { outcome = v; return this; }
    public Builder status(Integer v) { status = v; return this; }
    public Builder errorCode(String v) { errorCode = v; return this; }
    public Builder rows(Long v) { rows = v; return this; }
    public Builder bytes(Long v) { bytes = v; return this; }
    public Builder maskedColumns(List<String> v) { maskedColumns = v; return this; }
    /** The row filter's fingerprint, never its text or bound values. */
    public Builder rowFilter(String v) { rowFilter = v; return this; }
    public Builder queryFingerprint(String v) { queryFingerprint = v; return this; }
    public Builder costUnits(Double v) { costUnits = v; return this; }
    public Builder costCenter(String v) { costCenter = v; return this; }
    public Builder latencyMs(Double v) { latencyMs = v; return this; }
    public Builder clientIp(String v) { clientIp = v; return this; }
    Builder chainId(String v) { chainId = v; return this; }
    Builder seq(Long v) { seq = v; return this; }
    Builder prevHash(String v) { prevHash = v; return this; }
    Builder hash(String v) { hash = v; return this; }

    public AuditEvent build() {
      Instant ts = timestamp != null ? timestamp : Instant.now();
      UUID id = eventId != null ? eventId : newEventId(ts.toEpochMilli());
      return new AuditEvent(id, ts, eventType, requestId, actorId, actorRole, appId, tier, action, resourceType,
          resourceId, tokenId, policyIds, policyVersion, outcome, status, errorCode, rows, bytes, maskedColumns,
          rowFilter, queryFingerprint, costUnits, costCenter, latencyMs, clientIp, chainId, seq, prevHash, hash);
    }
  }
}

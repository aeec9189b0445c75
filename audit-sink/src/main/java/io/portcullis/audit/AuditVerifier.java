package io.portcullis.audit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import io.portcullis.audit.Violation.Kind;
import io.r2dbc.spi.ConnectionFactory;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;

/**
 * Proves a chain's stored events intact, or names the first event that was altered, removed, inserted or reordered.
 *
 * <p>Each event must re-hash to its {@code hash} and link to its predecessor through {@code prev_hash}; each signed
 * checkpoint must verify with the given public keys and match the stored event at its seq. Links find edits that did
 * not recompute hashes; checkpoints find those that did (a forger has no signing key).
 *
 * <p>The range is held in memory while it is checked: verify large chains in slices of, say, a million events
 * ({@code fromSeq > 1} links the slice to the stored event before it).
 */
public final class AuditVerifier {

  private final AuditQuery query;
  private final CheckpointStore checkpoints;
  private final JWKSet publicKeys;

  /** @param publicKeys the checkpoint signers' public keys; null skips signature checks (the report says so) */
  public AuditVerifier(ConnectionFactory connectionFactory, JWKSet publicKeys) {
    this(connectionFactory, new PostgresCheckpointStore(connectionFactory), publicKeys);
  }

  /**
   * Events from PostgreSQL, checkpoints from elsewhere — e.g. an exported copy ({@link CheckpointFile}) that whoever
   * can rewrite the database cannot rewrite.
   */
  public AuditVerifier(ConnectionFactory connectionFactory, CheckpointStore checkpoints, JWKSet publicKeys) {
    Objects.requireNonNull(connectionFactory, "connectionFactory");
    this.query = AuditQuery.create(connectionFactory);
    this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
    this.publicKeys = publicKeys == null ? null : publicKeys.toPublicJWKSet();
  }

  /** Verifies {@code fromSeq <= seq <= toSeq} of the chain as stored in PostgreSQL ({@code Long.MAX_VALUE} = to the end). */
  public Mono<VerificationReport> verify(String chainId, long fromSeq, long toSeq) {
    Objects.requireNonNull(chainId, "chainId");
    if (fromSeq < 1 || toSeq < fromSeq) {
      throw new IllegalArgumentException("range: " + fromSeq + ".." + toSeq + " (expected: 1 <= from <= to)");
    }
    Mono<String> expectedPrev = fromSeq == 1 ? Mono.just(HashChain.GENESIS)
        : query.chain(chainId, fromSeq - 1, fromSeq - 1).collectList()
            .flatMap(l -> l.size() == 1 ? Mono.just(l.get(0).hash()) : Mono.empty());
    return Mono.zip(
            query.chain(chainId, fromSeq, toSeq).collectList(),
            expectedPrev.map(Optional::of).defaultIfEmpty(Optional.empty()),
            checkpoints.find(chainId, fromSeq, toSeq).collectList(),
            fromSeq == 1 ? Mono.just(Optional.<AuditCheckpoint>empty())
                : checkpoints.find(chainId, 1, fromSeq - 1).takeLast(1).next()
                    .map(Optional::of).defaultIfEmpty(Optional.empty()))
        // hashing and signature checks are CPU work over a possibly large range: off the event loop
        .publishOn(Schedulers.boundedElastic())
        .map(t -> verify(chainId, fromSeq, toSeq, t.getT1(), t.getT2().orElse(null), t.getT3(),
            t.getT4().orElse(null), publicKeys));
  }

  /**
   * Verifies events in their stored order (a JSON-lines file's line order, or the table's seq order) against
   * checkpoints. Events of other chains and outside the range are ignored.
   *
   * @param expectedPrev the hash the event at {@code fromSeq} must link to (genesis for seq 1), null if unknown
   * @param previousCheckpoint the last checkpoint before {@code fromSeq}, to check the first one's count; nullable
   * @param publicKeys nullable: then signatures are not checked
   */
  public static VerificationReport verify(String chainId, long fromSeq, long toSeq, List<AuditEvent> stored,
      String expectedPrev, List<AuditCheckpoint> checkpointsInRange, AuditCheckpoint previousCheckpoint,
      JWKSet publicKeys) {
    List<AuditEvent> events = new ArrayList<>();
    for (AuditEvent e : stored) {
      if (chainId.equals(e.chainId()) && e.seq() != null && e.seq() >= fromSeq && e.seq() <= toSeq) {
        events.add(e);
      }
    }
    List<AuditCheckpoint> cps = new ArrayList<>(checkpointsInRange);
    cps.sort((a, b) -> Long.compare(a.seq(), b.seq()));

    Violation first = null;
    AuditCheckpoint before = previousCheckpoint;
    for (AuditCheckpoint cp : cps) {
      String problem = checkpointProblem(cp, before, publicKeys);
      if (problem != null) {
        first = new Violation(Kind.CHECKPOINT_INVALID, cp.seq(), null, problem);
        break;
      }
      before = cp;
    }
    Walk walk = new Walk(events, fromSeq, expectedPrev, cps);
    Violation inChain = walk.run();
    if (first == null || (inChain != null && inChain.seq() < first.seq())) {
      first = inChain;
    }
    return new VerificationReport(chainId, fromSeq, toSeq, walk.checked, publicKeys != null, first, cps);
  }

  /** Null when the checkpoint is well-formed, signed by a known key and its stored copy matches what was signed. */
  static String checkpointProblem(AuditCheckpoint cp, AuditCheckpoint previous, JWKSet keys) {
    JWSObject jws;
    CheckpointSigner.CheckpointPayload payload;
    try {
      jws = JWSObject.parse(cp.jws());
      payload = AuditJson.mapper().readValue(jws.getPayload().toString(), CheckpointSigner.CheckpointPayload.class);
    } catch (ParseException | JacksonException e) {
      return "unreadable JWS (" + e.getMessage() + ")";
    }
    if (!CheckpointSigner.TYPE.equals(jws.getHeader().getType())) {
      return "not a checkpoint JWS (typ " + jws.getHeader().getType() + ")";
    }
    if (keys != null) {
      String kid = jws.getHeader().getKeyID();
      JWK key = kid == null ? null : keys.getKeyByKeyId(kid);
      if (key == null) {
        return "signed with unknown key " + kid;
      }
      try {
        JWSVerifier verifier;
        if (key instanceof ECKey ec) {
          verifier = new ECDSAVerifier(ec.toPublicJWK());
        } else if (key instanceof RSAKey rsa) {
          verifier = new RSASSAVerifier(rsa.toPublicJWK());
        } else {
          return "key " + kid + " is " + key.getKeyType() + " (expected: EC or RSA)";
        }
        if (!jws.verify(verifier)) {
          return "signature does not verify with key " + kid;
        }
      } catch (JOSEException e) {
        return "signature check failed with key " + kid + " (" + e.getMessage() + ")";
      }
    }
    if (!payload.chainId().equals(cp.chainId()) || payload.seq() != cp.seq() || !payload.head().equals(cp.headHash())
        || payload.count() != cp.count() || !payload.time().equals(cp.time())) {
      return "stored columns differ from the signed payload " + jws.getPayload();
    }
    if (previous != null && cp.count() != cp.seq() - previous.seq()) {
      return "count " + cp.count() + " but " + (cp.seq() - previous.seq()) + " events since the checkpoint at seq "
          + previous.seq();
    }
    return null;
  }

  /** One pass over the stored events in stored order, stopping at the first violation. */
  private static final class Walk {
    private final List<AuditEvent> events;
    private final Map<Long, List<Integer>> bySeq = new HashMap<>();
    private final Map<String, List<Integer>> byHash = new HashMap<>();
    private final Map<Long, AuditCheckpoint> checkpointAt = new HashMap<>();
    private final Map<Long, AuditEvent> accepted = new HashMap<>();
    private final long lastCheckpointSeq;
    private long expectedSeq;
    private String expectedPrev;
    private AuditEvent previous;
    long checked;

    Walk(List<AuditEvent> events, long fromSeq, String expectedPrev, List<AuditCheckpoint> cps) {
      this.events = events;
      this.expectedSeq = fromSeq;
      this.expectedPrev = expectedPrev;
      for (int i = 0; i < events.size(); i++) {
        AuditEvent e = events.get(i);
        bySeq.computeIfAbsent(e.seq(), k -> new ArrayList<>()).add(i);
        if (e.hash() != null) {
          byHash.computeIfAbsent(e.hash(), k -> new ArrayList<>()).add(i);
        }
      }
      long last = 0;
      for (AuditCheckpoint cp : cps) {
        checkpointAt.put(cp.seq(), cp);
        last = Math.max(last, cp.seq());
      }
      lastCheckpointSeq = last;
    }

    Violation run() {
      for (int i = 0; i < events.size(); i++) {
        AuditEvent e = events.get(i);
        long s = expectedSeq;
        if (e.seq() < s) {
          AuditEvent prior = accepted.get(e.seq());
          if (prior != null && prior.equals(e)) {
            continue; // the same event stored twice (an at-least-once file sink after a replay): no information changed
          }
          return prior != null
              ? new Violation(Kind.INSERTED, e.seq(), e.eventId(), "a second event claims seq " + e.seq())
              : new Violation(Kind.REORDERED, e.seq(), e.eventId(), "stored after seq " + (s - 1));
        }
        if (e.seq() > s) {
          return laterAt(bySeq.get(s), i)
              ? new Violation(Kind.REORDERED, e.seq(), e.eventId(), "stored before seq " + s)
              : new Violation(Kind.REMOVED, s, null, "seq " + s + " is missing (next stored: " + e.seq() + ")");
        }
        Violation duplicate = duplicateSeq(i, e);
        if (duplicate != null) {
          return duplicate;
        }
        if (expectedPrev != null && !expectedPrev.equals(e.prevHash())) {
          return brokenLink(i, e);
        }
        if (!HashChain.selfConsistent(e)) {
          return new Violation(Kind.ALTERED, s, e.eventId(), "content does not match its hash");
        }
        AuditCheckpoint cp = checkpointAt.get(s);
        if (cp != null && !cp.headHash().equals(e.hash())) {
          return new Violation(Kind.CHECKPOINT_MISMATCH, s, e.eventId(),
              "signed head " + cp.headHash() + " but stored hash " + e.hash()
                  + ": events up to this seq were rewritten with recomputed hashes");
        }
        accepted.put(s, e);
        previous = e;
        expectedPrev = e.hash();
        expectedSeq = s + 1;
        checked++;
      }
      if (lastCheckpointSeq >= expectedSeq) {
        return new Violation(Kind.REMOVED, expectedSeq, null, "seq " + expectedSeq + " is missing, yet a checkpoint "
            + "signed seq " + lastCheckpointSeq);
      }
      return null;
    }

    /** Two different events stored with the same seq: the one its successor links to is genuine. */
    private Violation duplicateSeq(int i, AuditEvent e) {
      List<Integer> same = bySeq.get(e.seq());
      if (same.size() < 2) {
        return null;
      }
      AuditEvent genuine = null;
      for (int j : same) {
        AuditEvent c = events.get(j);
        if (c.equals(e) && j != i) {
          continue;
        }
        if (HashChain.selfConsistent(c) && (expectedPrev == null || expectedPrev.equals(c.prevHash()))
            && isLinkedFrom(c)) {
          genuine = c;
        }
      }
      for (int j : same) {
        AuditEvent c = events.get(j);
        if (!c.equals(e) && !c.equals(genuine)) {
          return new Violation(Kind.INSERTED, c.seq(), c.eventId(), "a second event claims seq " + c.seq());
        }
      }
      if (genuine != null && !genuine.equals(e)) {
        return new Violation(Kind.INSERTED, e.seq(), e.eventId(), "a second event claims seq " + e.seq());
      }
      return null;
    }

    private boolean isLinkedFrom(AuditEvent candidate) {
      List<Integer> next = bySeq.get(candidate.seq() + 1);
      if (next != null) {
        for (int j : next) {
          if (candidate.hash().equals(events.get(j).prevHash())) {
            return true;
          }
        }
      }
      AuditCheckpoint cp = checkpointAt.get(candidate.seq());
      return cp != null && cp.headHash().equals(candidate.hash());
    }

    /** The event at the expected seq does not link to its predecessor: find out why. */
    private Violation brokenLink(int i, AuditEvent e) {
      long s = e.seq();
      if (previous != null && e.prevHash() != null && e.prevHash().equals(previous.prevHash())) {
        return new Violation(Kind.INSERTED, previous.seq(), previous.eventId(),
            "spliced in: its successor links to its predecessor");
      }
      if (e.prevHash() != null && laterAt(byHash.get(e.prevHash()), i)) {
        return new Violation(Kind.REORDERED, s, e.eventId(), "links to an event stored after it");
      }
      List<Integer> target = e.prevHash() == null ? null : byHash.get(e.prevHash());
      if (target != null) {
        AuditEvent linked = events.get(target.get(0));
        AuditEvent spliced = accepted.get(linked.seq() + 1);
        return new Violation(Kind.INSERTED, linked.seq() + 1, spliced == null ? null : spliced.eventId(),
            "spliced in: seq " + s + " links to seq " + linked.seq());
      }
      if (!HashChain.selfConsistent(e)) {
        return new Violation(Kind.REMOVED, s, null, "the event seq " + s + " links to is missing and later events "
            + "were renumbered (event " + e.eventId() + " no longer matches its hash)");
      }
      if (previous != null) {
        return new Violation(Kind.ALTERED, previous.seq(), previous.eventId(), "its hash was recomputed after an "
            + "edit: seq " + s + " links to a different hash (or an event between them was removed)");
      }
      return new Violation(Kind.ALTERED, s, e.eventId(), "does not link to the event before the range");
    }

    private static boolean laterAt(List<Integer> positions, int i) {
      if (positions != null) {
        for (int p : positions) {
          if (p > i) {
            return true;
          }
        }
      }
      return false;
    }
  }
}

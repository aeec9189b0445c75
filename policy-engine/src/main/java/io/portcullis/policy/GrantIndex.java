package io.portcullis.policy;

import io.portcullis.policy.model.App;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Every (app, dataset, action) that has a grant, in one open-addressed table, so that the hot path finds the plan with
 * one probe instead of three dependent map lookups (app id → app entry → per-app map → plan array). With 10,000 apps a
 * decision's lookups miss the CPU caches, and each dependent pointer load is a miss; an entry carries what the decision
 * reads next (the app's paused denial, the plan's fixed decision) so that an allowed request touches no other snapshot
 * object.
 *
 * <p>Immutable after construction and read without locks. Keys hash with the app id's and dataset name's
 * {@link String#hashCode()} (both cached in the strings), and a hash match is always confirmed by the dataset entry's
 * identity, the action and {@link String#equals} on the app id: a collision can cost a probe, never another app's grant.
 */
final class GrantIndex {
  /**
   * One granted (app, dataset, action).
   *
   * @param paused the app's denial when it is not active, else null
   * @param fixed  the plan's decision when nothing in it depends on the request ({@link GrantPlan#fixed}), else null
   */
  record Entry(String appId, PolicySnapshot.DatasetEntry dataset, int action, @Nullable Decision paused,
      @Nullable Decision fixed, GrantPlan plan, App app) {}

  /** 0 marks an empty slot; {@link #hash} never returns it. */
  private static final int EMPTY = 0;

  /** Parallel to {@link #entries}: a probe compares ints in one cache line and loads an entry only on a hash match. */
  private final int[] hashes;
  private final Entry[] entries;
  private final int mask;

  GrantIndex(List<Entry> all) {
    // load factor at most 1/2 keeps linear-probe runs short, and misses (no grant) end at an empty slot quickly
    int capacity = Integer.highestOneBit(Math.max(2, all.size()) * 2 - 1) << 1;
    this.hashes = new int[capacity];
    this.entries = new Entry[capacity];
    this.mask = capacity - 1;
    for (Entry e : all) {
      int h = hash(e.appId().hashCode(), e.dataset().dataset().name().hashCode(), e.action());
      int i = h & mask;
      while (hashes[i] != EMPTY) {
        Entry other = entries[i];
        if (other.dataset() == e.dataset() && other.action() == e.action() && other.appId().equals(e.appId())) {
          throw new IllegalArgumentException("duplicate grant entry: %s %s %d (expected: one per app, dataset, action)"
              .formatted(e.appId(), e.dataset().dataset().name(), e.action()));
        }
        i = (i + 1) & mask;
      }
      hashes[i] = h;
      entries[i] = e;
    }
  }

  /**
   * The entry of (appId, dataset, action), or null. {@code datasetHash} is the dataset name's hash code (the caller has
   * it cached from the dataset lookup).
   */
  @Nullable Entry find(String appId, PolicySnapshot.DatasetEntry dataset, int datasetHash, int action) {
    int h = hash(appId.hashCode(), datasetHash, action);
    int[] hs = hashes;
    for (int i = h & mask; ; i = (i + 1) & mask) {
      int eh = hs[i];
      if (eh == h) {
        Entry e = entries[i];
        if (e.dataset() == dataset && e.action() == action && e.appId().equals(appId)) {
          return e;
        }
      } else if (eh == EMPTY) {
        return null;
      }
    }
  }

  /** Murmur3's 32-bit finaliser over the three parts, so that sequential app ids spread over the whole table. */
  static int hash(int appHash, int datasetHash, int action) {
    int h = (appHash * 0x9E3779B9 + datasetHash) * 31 + action;
    h ^= h >>> 16;
    h *= 0x85EBCA6B;
    h ^= h >>> 13;
    h *= 0xC2B2AE35;
    h ^= h >>> 16;
    return h == EMPTY ? 1 : h;
  }
}

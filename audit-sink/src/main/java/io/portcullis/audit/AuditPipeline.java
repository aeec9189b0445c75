package io.portcullis.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The gateway's audit emitter: one per gateway instance, i.e. one hash chain ({@code chain_id}).
 *
 * <p>{@link #emit} seals the event on the caller's thread: under a short lock it assigns {@code seq} and the hash chain
 * and copies the event's line into the write-ahead {@link Journal}'s memory-mapped segment (in the page cache at once;
 * no system call, no fsync), then hands it to the drainer through a lock-free queue. So when {@link #journaled}
 * completes (at once, on the caller's thread) the event survives the death of the process, and a restart replays what
 * the sink had not taken. An event loop that emits does no file I/O, and a request pays no thread hand-off: a journal
 * thread woken per request, and its signal back to the event loop, cost more CPU than the sealing they moved off it
 * (load-tests/RESULTS.md, 2026-12-06). A drain thread batches the journaled events (up to {@code batchSize}, or
 * {@code batchInterval} after the first event, or at once when a {@link #durable} caller waits), writes each batch to
 * the sink and fsyncs the journal (so a power loss can take at most the events since the last batch). When the sink fails, times out, or falls behind (more than
 * {@code queueCapacity} events waiting), batches go to the fsync'd spill file instead; the sink is probed with
 * back-off by replaying the spill file in order, and once it is empty batches go to the sink again. No event is
 * dropped: the queue is unbounded beyond {@code queueCapacity} (the bound only decides when to spill), and a batch that
 * neither the sink nor the spill file accepts is retried before anything newer.
 *
 * <p>Signed checkpoints are stored every {@code checkpointEvery} events or {@code checkpointInterval}, only over
 * events already in the sink (never over spilled ones).
 */
public final class AuditPipeline implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AuditPipeline.class);
  private static final Pattern CHAIN_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final int NEW = 0;
  private static final int STARTING = 1;
  private static final int RUNNING = 2;
  private static final int CLOSING = 3;
  private static final int CLOSED = 4;

  private final AuditSink sink;
  private final ChainHeadSource headSource;
  private final String chainId;
  private final SpillFile spill;
  private final Journal journal;
  private final int batchSize;
  private final long batchIntervalNanos;
  private final int queueCapacity;
  private final Duration sinkTimeout;
  private final Duration probeMin;
  private final Duration probeMax;
  private final Duration closeTimeout;
  private final CheckpointSigner signer;
  private final CheckpointStore checkpointStore;
  private final int checkpointEvery;
  private final long checkpointIntervalNanos;
  private final Clock clock;

  private final ConcurrentLinkedQueue<Entry> sealedQueue = new ConcurrentLinkedQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong spilled = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong checkpoints = new AtomicLong();
  private final AtomicInteger state = new AtomicInteger(NEW);
  private volatile long spillBacklog;
  private volatile boolean sinkHealthy = true;
  private volatile long oldestPendingNanos;
  private volatile long lastSeq;
  private volatile boolean stranded;
  private volatile boolean sleeping;
  // The drainer's wake-up rule, published before `sleeping` is set: it sleeps until its batch deadline and needs
  // waking only when it has nothing pending (no deadline to wake it), for an urgent entry, or for a full batch.
  private volatile boolean drainIdle = true;
  private volatile long fullBatchAt;
  private volatile Thread drainer;
  private volatile boolean journalHealthy = true;
  private volatile boolean halted;

  /** Guards the chain and the journal's appends: the emission order is the chain's. */
  private final Object sealLock = new Object();
  // under sealLock
  private HashChain chain;
  /** Entries handed to the drainer so far. */
  private long sealedOffered;
  /** Entries emitted before the start, sealed by it. */
  private final List<Entry> early = new ArrayList<>();

  // drain-thread state (published to the thread by Thread.start)
  private boolean spilling;
  private long nextProbeNanos;
  private Duration probeDelay;
  private List<Entry> strandedBatch;
  private long persistedSeq;
  private String persistedHash;
  private long checkpointSeq;
  private long lastCheckpointNanos;
  /** Entries taken from the sealed queue so far. */
  private long sealedTaken;

  private AuditPipeline(Builder b) {
    this.sink = b.sink;
    this.headSource = b.headSource != null ? b.headSource : b.sink instanceof ChainHeadSource h ? h : null;
    this.chainId = b.chainId;
    this.spill = new SpillFile(b.spillDirectory.resolve("audit-spill-" + b.chainId + ".jsonl"));
    this.journal = new Journal(b.spillDirectory, b.chainId, b.journalRotateBytes, sealLock);
    this.batchSize = b.batchSize;
    this.batchIntervalNanos = b.batchInterval.toNanos();
    this.queueCapacity = b.queueCapacity;
    this.sinkTimeout = b.sinkTimeout;
    this.probeMin = b.probeInterval;
    this.probeMax = b.maxProbeInterval;
    this.closeTimeout = b.closeTimeout;
    this.signer = b.signer;
    this.checkpointStore = b.checkpointStore;
    this.checkpointEvery = b.checkpointEvery;
    this.checkpointIntervalNanos = b.checkpointInterval.toNanos();
    this.clock = b.clock;
    this.probeDelay = probeMin;
  }

  /**
   * @param sink where batches go; if it is a {@link ChainHeadSource} (PostgreSQL) a restart continues its chain
   * @param chainId this gateway instance's chain, stable across its restarts (e.g. the pod name)
   * @param spillDirectory a local directory on persistent disk for the spill file
   */
  public static Builder builder(AuditSink sink, String chainId, Path spillDirectory) {
    return new Builder(sink, chainId, spillDirectory);
  }

  public String chainId() {
    return chainId;
  }

  /**
   * Finds where the chain continues (the spill file's last event, else the sink's head, else genesis) and starts the
   * drain thread. Events emitted before wait in the queue. Errors (sink head unreadable) leave it startable again.
   */
  public Mono<Void> start() {
    return Mono.defer(() -> {
      if (!state.compareAndSet(NEW, STARTING)) {
        return Mono.error(new IllegalStateException("pipeline " + chainId + " already started"));
      }
      Mono<Local> spillHead = Mono.fromCallable(() -> new Local(spill.open(), journal.open()))
          .subscribeOn(Schedulers.boundedElastic());
      Mono<Optional<ChainHead>> sinkHead = headSource == null ? Mono.just(Optional.empty())
          : headSource.head(chainId).map(Optional::of).defaultIfEmpty(Optional.empty());
      Mono<Long> lastCheckpoint = signer == null || checkpointStore == null ? Mono.just(0L)
          : checkpointStore.latest(chainId).map(AuditCheckpoint::seq).defaultIfEmpty(0L);
      return Mono.zip(spillHead, sinkHead, lastCheckpoint)
          .flatMap(t -> Mono.fromRunnable(() -> begin(t.getT1(), t.getT2().orElse(null), t.getT3()))
              .subscribeOn(Schedulers.boundedElastic()))
          .doOnError(e -> state.set(NEW))
          .then();
    });
  }

  private record Local(AuditEvent spillLast, Journal.Recovered journal) {
  }

  private void begin(Local local, ChainHead sinkHead, long lastCheckpointSeq) {
    AuditEvent spillLast = local.spillLast();
    ChainHead head = sinkHead != null ? sinkHead : ChainHead.genesis(chainId);
    if (spillLast != null && spillLast.seq() != null && spillLast.seq() > head.seq()) {
      head = new ChainHead(chainId, spillLast.seq(), spillLast.hash());
    }
    AuditEvent journalLast = local.journal().last();
    if (journalLast != null && journalLast.seq() != null && journalLast.seq() > head.seq()) {
      head = new ChainHead(chainId, journalLast.seq(), journalLast.hash());
    }
    recover(local, sinkHead);
    persistedSeq = sinkHead == null ? 0 : sinkHead.seq();
    persistedHash = sinkHead == null ? null : sinkHead.hash();
    checkpointSeq = lastCheckpointSeq;
    lastCheckpointNanos = System.nanoTime();
    spillBacklog = spill.pending();
    spilling = spill.pending() > 0;
    nextProbeNanos = System.nanoTime();
    if (spilling) {
      log.info("audit chain {}: {} spilled events to replay from {}", chainId, spill.pending(), spill.path());
    }
    Thread t = new Thread(this::drainLoop, "portcullis-audit-" + chainId);
    t.setDaemon(true);
    drainer = t;
    List<Entry> sealedEarly = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    synchronized (sealLock) {
      chain = new HashChain(chainId, head.seq(), head.hash());
      lastSeq = head.seq();
      for (Entry e : early) {
        failures.add(sealAndJournal(e));
        sealedEarly.add(e);
      }
      early.clear();
      state.set(RUNNING);
    }
    t.start();
    for (int i = 0; i < sealedEarly.size(); i++) {
      Entry e = sealedEarly.get(i);
      if (e.journaled != null) {
        signal(e.journaled, failures.get(i));
      }
    }
  }

  /**
   * The journaled events a previous run had not put into the sink or the spill file (it died): appended to the spill
   * file in chain order, so the normal replay sends them (the sink skips event ids it already has).
   */
  private void recover(Local local, ChainHead sinkHead) {
    long floor = local.journal().acked();
    if (local.spillLast() != null && local.spillLast().seq() != null) {
      floor = Math.max(floor, local.spillLast().seq());
    }
    if (sinkHead != null) {
      floor = Math.max(floor, sinkHead.seq());
    }
    List<AuditEvent> tail = new ArrayList<>();
    for (AuditEvent e : local.journal().unacked()) {
      if (e.seq() > floor && chainId.equals(e.chainId())) {
        tail.add(e);
      }
    }
    if (tail.isEmpty()) {
      return;
    }
    try {
      spill.append(tail);
      spilled.addAndGet(tail.size());
      journal.acked(tail.get(tail.size() - 1).seq());
    } catch (IOException e) {
      throw new UncheckedIOException("audit chain " + chainId + ": cannot recover " + tail.size()
          + " journaled events into " + spill.path(), e);
    }
    log.warn("audit chain {}: recovered {} journaled events (seq {}..{}) not yet persisted by the previous run",
        chainId, tail.size(), tail.get(0).seq(), tail.get(tail.size() - 1).seq());
  }

  /** Seals and journals the event, and returns. The pipeline sets chain_id, seq, prev_hash and hash. */
  public void emit(AuditEvent event) {
    enqueue(new Entry(Objects.requireNonNull(event, "event"), null, null, null, System.nanoTime()));
  }

  /**
   * Emits the event and completes once it is in the write-ahead journal (written, not yet fsync'd): it then survives
   * the death of this process and is replayed at the next start. Errors with {@link AuditUnavailableException} when
   * the journal cannot be written (the event still goes on to the sink). Completes on the caller's thread, at once
   * (before the start: when the start has sealed it).
   */
  public Mono<Void> journaled(AuditEvent event) {
    return journaled(event, false);
  }

  /**
   * As {@link #journaled(AuditEvent)}; with {@code pushNow} the batch holding the event also goes to the sink at once,
   * as for {@link #durable}, instead of waiting for more events (tier 2: the shortest window in memory only).
   */
  public Mono<Void> journaled(AuditEvent event, boolean pushNow) {
    return enqueue(new Entry(Objects.requireNonNull(event, "event"), null, pushNow ? Sinks.one() : null, null,
        System.nanoTime()));
  }

  /**
   * Emits the event now, and completes when it is written to the sink or fsync'd in the spill file; errors with
   * {@link AuditUnavailableException} when neither can take it (tier 2 then fails closed; the event is still kept and
   * retried). Completes on a parallel scheduler, never on the drain thread. Callers should still apply a timeout.
   */
  public Mono<Void> durable(AuditEvent event) {
    Sinks.One<Void> done = Sinks.one();
    enqueue(new Entry(Objects.requireNonNull(event, "event"), null, done, null, System.nanoTime()));
    if (stranded) {
      done.tryEmitError(new AuditUnavailableException("audit sink and spill file both unavailable", null));
    }
    return done.asMono().publishOn(Schedulers.parallel());
  }

  /** Completes when every event emitted before this call is in the sink or the spill file. */
  public Mono<Void> flush() {
    Sinks.One<Void> done = Sinks.one();
    enqueue(new Entry(null, null, done, null, System.nanoTime()));
    return done.asMono().publishOn(Schedulers.parallel());
  }

  /**
   * Seals the entry's event and appends it to the journal under the seal lock, hands it to the drainer and wakes the
   * drainer if it must; before the start, only queues it, for the start to seal. Returns what {@link #journaled}
   * returns: empty when the event is journaled, the journal's failure, or, before the start, the start's signal.
   */
  private Mono<Void> enqueue(Entry entry) {
    Throwable failure;
    synchronized (sealLock) {
      int s = state.get();
      if (s >= CLOSING) {
        throw new IllegalStateException("audit pipeline " + chainId + " is closed");
      }
      queued.incrementAndGet();
      if (s != RUNNING) {
        Sinks.One<Void> signal = Sinks.one();
        early.add(entry.event == null ? entry : entry.withJournaled(signal));
        return signal.asMono();
      }
      failure = sealAndJournal(entry);
    }
    wakeDrainer(entry.done != null);
    return failure == null ? Mono.empty() : Mono.error(unwritable(failure));
  }

  /** Under the seal lock: seals, appends to the journal, offers to the drainer. Returns the journal's failure. */
  private Throwable sealAndJournal(Entry entry) {
    Throwable failure = null;
    Entry sealedEntry = entry;
    if (entry.event != null) {
      HashChain.Sealed sealed = chain.seal(entry.event);
      long seq = sealed.event().seq();
      lastSeq = seq;
      sealedEntry = new Entry(sealed.event(), sealed.json(), entry.done, entry.journaled, entry.enqueuedNanos);
      try {
        journal.append(sealed.json(), seq);
        if (!journalHealthy) {
          journalHealthy = true;
          log.info("audit chain {}: journal {} writable again", chainId, journal.path());
        }
      } catch (IOException | RuntimeException ex) {
        failure = ex;
        if (journalHealthy) {
          journalHealthy = false;
          log.error("audit chain {}: cannot append to journal {}; events go on to the sink from memory", chainId,
              journal.path(), ex);
        }
      }
    }
    sealedQueue.offer(sealedEntry);
    sealedOffered++;
    return failure;
  }

  private static AuditUnavailableException unwritable(Throwable failure) {
    return new AuditUnavailableException("audit journal not writable", failure);
  }

  private static void signal(Sinks.One<Void> journaled, Throwable failure) {
    if (failure == null) {
      journaled.tryEmitEmpty();
    } else {
      journaled.tryEmitError(unwritable(failure));
    }
  }

  /**
   * After an entry: wakes a sleeping drainer only if it has work that cannot wait for its own batch deadline. A
   * wake-up per entry would cost a drainer context switch per event, to move it into a batch still waiting for its
   * deadline. ({@code sealedOffered} is read outside the seal lock: a stale value only delays a full batch's wake-up
   * to the next entry or the deadline.)
   */
  private void wakeDrainer(boolean urgent) {
    Thread t = drainer;
    if (t != null && sleeping && (urgent || state.get() >= CLOSING || drainIdle || sealedOffered - fullBatchAt >= 0)) {
      LockSupport.unpark(t);
    }
  }

  /**
   * False while the last batch could be persisted neither in the sink nor in the spill file (it is held and retried),
   * or the last journal append failed: tier-2 requests are refused then, before they touch data. True again as soon as a retry succeeds.
   */
  public boolean canPersist() {
    return !stranded && journalHealthy && state.get() < CLOSING;
  }

  public AuditStats stats() {
    long now = System.nanoTime();
    long oldest = oldestPendingNanos;
    Entry head = sealedQueue.peek();
    if (head != null && (oldest == 0 || head.enqueuedNanos - oldest < 0)) {
      oldest = head.enqueuedNanos;
    }
    long lag = oldest == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(now - oldest);
    return new AuditStats(queued.get(), written.get(), spilled.get(), replayed.get(), spillBacklog, lag,
        checkpoints.get(), sinkHealthy, lastSeq);
  }

  /**
   * Drains the queue into the sink (or the spill file), tries once more to replay the spill file, stores a final
   * checkpoint and stops the drain thread; waits up to {@code closeTimeout}. Blocking: call it at shutdown, never on
   * an event loop. What the sink did not take stays in the spill file for the next start.
   */
  @Override
  public void close() {
    int s = state.get();
    if (s == NEW || s == STARTING) {
      state.set(CLOSED);
      if (queued.get() > 0) {
        log.warn("audit chain {} closed before start: {} queued events not persisted", chainId, queued.get());
      }
      return;
    }
    synchronized (sealLock) { // after this, no entry is offered any more
      if (!state.compareAndSet(RUNNING, CLOSING)) {
        return;
      }
    }
    Thread t = drainer;
    LockSupport.unpark(t);
    try {
      t.join(closeTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      log.warn("audit chain {}: drain thread still busy after {}; {} events queued", chainId, closeTimeout,
          queued.get());
    }
  }

  /**
   * Stops the drain thread where it is, persisting, syncing and closing nothing more: what the death of the process
   * leaves behind, for tests of the recovery at the next start.
   */
  void halt() throws InterruptedException {
    halted = true;
    state.set(CLOSED);
    Thread t = drainer;
    if (t != null) {
      LockSupport.unpark(t);
      t.join(closeTimeout.toMillis());
    }
  }

  // ---- drain thread ------------------------------------------------------------------------------------------

  private void drainLoop() {
    List<Entry> pending = new ArrayList<>(batchSize);
    long deadline = 0;
    boolean urgent = false;
    while (!halted) {
      if (strandedBatch != null) {
        long wait = nextProbeNanos - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(this, wait); // back-off even while closing: no hot retry loop
          continue;
        }
        List<Entry> retry = strandedBatch;
        strandedBatch = null;
        persist(retry);
        continue;
      }
      if (spilling && System.nanoTime() - nextProbeNanos >= 0 && queued.get() <= queueCapacity / 2) {
        // before polling, so a busy queue cannot starve the replay; order holds: whatever is pending is sealed after
        // every spilled event and goes to the spill file, or to the sink only once the file is empty
        replayChunk();
      }
      Entry e = sealedQueue.poll();
      if (e != null) {
        queued.decrementAndGet();
        sealedTaken++;
        if (e.event == null) {
          persist(pending);
          pending.clear();
          urgent = false;
          if (strandedBatch == null) {
            e.done.tryEmitEmpty();
          } else {
            e.done.tryEmitError(new AuditUnavailableException("audit sink and spill file both unavailable", null));
          }
          continue;
        }
        if (pending.isEmpty()) {
          deadline = System.nanoTime() + batchIntervalNanos;
          oldestPendingNanos = e.enqueuedNanos;
        }
        pending.add(e);
        urgent |= e.done != null;
        if (pending.size() >= batchSize) {
          persist(pending);
          pending.clear();
          urgent = false;
        }
        continue;
      }
      boolean closing = state.get() >= CLOSING;
      if (!pending.isEmpty() && (urgent || closing || System.nanoTime() - deadline >= 0)) {
        persist(pending);
        pending.clear();
        urgent = false;
        continue;
      }
      if (closing && pending.isEmpty() && sealedQueue.isEmpty()) {
        finish();
        return;
      }
      if (spilling && System.nanoTime() - nextProbeNanos >= 0 && queued.get() <= queueCapacity / 2) {
        continue;
      }
      maybeCheckpoint(false);
      long wakeAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      if (!pending.isEmpty() && deadline - wakeAt < 0) {
        wakeAt = deadline;
      }
      if (spilling && nextProbeNanos - wakeAt < 0) {
        wakeAt = nextProbeNanos;
      }
      sleepUntil(wakeAt, pending.size());
    }
  }

  private void sleepUntil(long wakeAtNanos, int pendingCount) {
    drainIdle = pendingCount == 0;
    fullBatchAt = sealedTaken + batchSize - pendingCount;
    sleeping = true;
    if (sealedQueue.isEmpty() && state.get() == RUNNING) {
      long wait = wakeAtNanos - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
      }
    }
    sleeping = false;
  }

  /** Writes a sealed batch to the sink, or else to the spill file, then answers its durable() waiters. */
  private void persist(List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    List<AuditEvent> batch = new ArrayList<>(entries.size());
    List<byte[]> json = new ArrayList<>(entries.size());
    for (Entry en : entries) {
      batch.add(en.event);
      json.add(en.json != null ? en.json : AuditJson.toJsonBytes(en.event));
    }
    boolean done = false;
    if (!spilling && queued.get() > queueCapacity) {
      log.warn("audit chain {}: sink {} slower than emission ({} queued > {}): spilling", chainId, sink.name(),
          queued.get(), queueCapacity);
      enterSpilling(false);
    }
    if (!spilling) {
      try {
        sink.write(batch, json).block(sinkTimeout);
        written.addAndGet(batch.size());
        sinkHealthy = true;
        persistedToSink(batch);
        done = true;
      } catch (RuntimeException ex) {
        log.warn("audit chain {}: sink {} failed ({}); spilling to {}", chainId, sink.name(), ex.toString(),
            spill.path());
        enterSpilling(true);
      }
    }
    Throwable failure = null;
    if (!done) {
      try {
        spill.append(batch);
        spilled.addAndGet(batch.size());
        spillBacklog = spill.pending();
        done = true;
      } catch (IOException | UncheckedIOException ex) {
        failure = ex;
      }
    }
    oldestPendingNanos = 0;
    if (done) {
      stranded = false;
      journalPersisted(batch.get(batch.size() - 1).seq());
      for (Entry en : entries) {
        if (en.done != null) {
          en.done.tryEmitEmpty();
        }
      }
      return;
    }
    // neither took it: keep the batch (and everything after it, still queued) and retry with back-off
    log.error("audit chain {}: sink {} and spill file {} both failed; {} events held in memory", chainId, sink.name(),
        spill.path(), batch.size() + queued.get(), failure);
    stranded = true;
    strandedBatch = new ArrayList<>(entries);
    oldestPendingNanos = entries.get(0).enqueuedNanos;
    backOff();
    AuditUnavailableException unavailable = new AuditUnavailableException(
        "audit sink and spill file both unavailable", failure);
    for (Entry en : entries) {
      if (en.done != null) {
        en.done.tryEmitError(unavailable);
      }
    }
    for (Entry en : sealedQueue) {
      if (en.done != null) {
        en.done.tryEmitError(unavailable);
      }
    }
  }

  /** The journal's events up to seq are in the sink or the spill file: fsync the journal (batched), move the mark. */
  private void journalPersisted(long seq) {
    try {
      journal.sync();
      journal.acked(seq);
      journal.rotateIfDue();
    } catch (IOException | RuntimeException ex) {
      // a stale mark only replays more at the next start; the sinks skip event ids they have
      log.debug("audit chain {}: journal mark not advanced to {} ({})", chainId, seq, ex.toString());
    }
  }

  private void enterSpilling(boolean sinkFailed) {
    spilling = true;
    if (sinkFailed) {
      sinkHealthy = false;
      probeDelay = probeMin;
      nextProbeNanos = System.nanoTime() + probeDelay.toNanos();
    } else {
      nextProbeNanos = System.nanoTime();
    }
  }

  private void backOff() {
    nextProbeNanos = System.nanoTime() + probeDelay.toNanos();
    Duration doubled = probeDelay.multipliedBy(2);
    probeDelay = doubled.compareTo(probeMax) > 0 ? probeMax : doubled;
  }

  /** One replay step: the oldest spilled chunk to the sink; back to direct writes once the file is empty. */
  private boolean replayChunk() {
    List<AuditEvent> chunk;
    try {
      chunk = spill.peek(batchSize);
    } catch (IOException | UncheckedIOException ex) {
      log.error("audit chain {}: cannot read spill file {}", chainId, spill.path(), ex);
      backOff();
      return false;
    }
    try {
      if (!chunk.isEmpty()) {
        sink.write(chunk).block(sinkTimeout);
      }
    } catch (RuntimeException ex) {
      sinkHealthy = false;
      log.debug("audit chain {}: sink {} still unavailable ({})", chainId, sink.name(), ex.toString());
      backOff();
      return false;
    }
    try {
      if (!chunk.isEmpty()) {
        spill.consumePeeked();
        replayed.addAndGet(chunk.size());
        persistedToSink(chunk);
      }
    } catch (IOException ex) {
      // the chunk is in the sink; the file keeps it and replays it once more later, which the sink skips
      log.error("audit chain {}: cannot advance spill file {}", chainId, spill.path(), ex);
      backOff();
      return false;
    }
    spillBacklog = spill.pending();
    sinkHealthy = true;
    probeDelay = probeMin;
    nextProbeNanos = System.nanoTime();
    if (spill.pending() == 0) {
      spilling = false;
      log.info("audit chain {}: spill file replayed; writing to sink {} again", chainId, sink.name());
    }
    return true;
  }

  private void persistedToSink(List<AuditEvent> batch) {
    AuditEvent last = batch.get(batch.size() - 1);
    if (last.seq() > persistedSeq) {
      persistedSeq = last.seq();
      persistedHash = last.hash();
    }
    maybeCheckpoint(false);
  }

  private void maybeCheckpoint(boolean force) {
    if (signer == null || checkpointStore == null || persistedHash == null || persistedSeq <= checkpointSeq) {
      return;
    }
    long since = persistedSeq - checkpointSeq;
    long now = System.nanoTime();
    if (!force && since < checkpointEvery && now - lastCheckpointNanos < checkpointIntervalNanos) {
      return;
    }
    lastCheckpointNanos = now;
    try {
      AuditCheckpoint cp = signer.sign(chainId, persistedSeq, persistedHash, since, clock.instant());
      checkpointStore.save(cp).block(sinkTimeout);
      checkpointSeq = cp.seq();
      checkpoints.incrementAndGet();
    } catch (RuntimeException ex) {
      log.warn("audit chain {}: checkpoint at seq {} not stored ({}); retrying later", chainId, persistedSeq,
          ex.toString());
    }
  }

  private void finish() {
    long stopAt = System.nanoTime() + closeTimeout.toNanos() / 2;
    while (spilling && System.nanoTime() - stopAt < 0 && strandedBatch == null) {
      if (!replayChunk()) {
        break;
      }
    }
    maybeCheckpoint(true);
    try {
      spill.close();
    } catch (IOException ex) {
      log.warn("audit chain {}: closing spill file {}", chainId, spill.path(), ex);
    }
    try {
      journal.close();
    } catch (IOException ex) {
      log.warn("audit chain {}: closing journal {}", chainId, journal.path(), ex);
    }
    state.set(CLOSED);
  }

  /**
   * {@code json}: the sealed event's canonical JSON (null until sealed); {@code journaled}: the signal of a
   * {@link #journaled} entry queued before the start, else null.
   */
  private record Entry(AuditEvent event, byte[] json, Sinks.One<Void> done, Sinks.One<Void> journaled,
      long enqueuedNanos) {

    Entry withJournaled(Sinks.One<Void> signal) {
      return new Entry(event, json, done, signal, enqueuedNanos);
    }
  }

  /** Configuration of an {@link AuditPipeline}; defaults suit a gateway instance. */
  public static final class Builder {
    private final AuditSink sink;
    private final String chainId;
    private final Path spillDirectory;
    private ChainHeadSource headSource;
    private int batchSize = 256;
    private Duration batchInterval = Duration.ofMillis(100);
    private int queueCapacity = 50_000;
    private Duration sinkTimeout = Duration.ofSeconds(5);
    private Duration probeInterval = Duration.ofMillis(500);
    private Duration maxProbeInterval = Duration.ofSeconds(30);
    private Duration closeTimeout = Duration.ofSeconds(30);
    private CheckpointSigner signer;
    private CheckpointStore checkpointStore;
    private int checkpointEvery = 1000;
    private Duration checkpointInterval = Duration.ofSeconds(60);
    private Clock clock = Clock.systemUTC();
    private long journalRotateBytes = 16L << 20;

    private Builder(AuditSink sink, String chainId, Path spillDirectory) {
      this.sink = Objects.requireNonNull(sink, "sink");
      this.chainId = Objects.requireNonNull(chainId, "chainId");
      if (!CHAIN_ID.matcher(chainId).matches()) {
        throw new IllegalArgumentException("chainId: " + chainId + " (expected: 1-128 of [A-Za-z0-9._:-])");
      }
      this.spillDirectory = Objects.requireNonNull(spillDirectory, "spillDirectory");
    }

    /** Where the chain head is read at start; defaults to the sink when it is a {@link ChainHeadSource}. */
    public Builder headSource(ChainHeadSource v) {
      headSource = Objects.requireNonNull(v, "headSource");
      return this;
    }

    /** Events per sink write (default 256). */
    public Builder batchSize(int v) {
      if (v < 1 || v > 10_000) {
        throw new IllegalArgumentException("batchSize: " + v + " (expected: 1..10000)");
      }
      batchSize = v;
      return this;
    }

    /** How long the first event of a batch may wait for more (default 100 ms); durable() events do not wait. */
    public Builder batchInterval(Duration v) {
      batchInterval = positive("batchInterval", v);
      return this;
    }

    /** Queued events beyond which batches bypass a slow sink for the spill file (default 50,000). Never a drop. */
    public Builder queueCapacity(int v) {
      if (v < 1) {
        throw new IllegalArgumentException("queueCapacity: " + v + " (expected: > 0)");
      }
      queueCapacity = v;
      return this;
    }

    /** A sink write slower than this counts as failed and the batch is spilled (default 5 s). */
    public Builder sinkTimeout(Duration v) {
      sinkTimeout = positive("sinkTimeout", v);
      return this;
    }

    /** First and longest wait between replay attempts while the sink is down (default 500 ms, doubling to 30 s). */
    public Builder probeInterval(Duration first, Duration max) {
      probeInterval = positive("probeInterval", first);
      maxProbeInterval = positive("maxProbeInterval", max);
      if (max.compareTo(first) < 0) {
        throw new IllegalArgumentException("maxProbeInterval: " + max + " (expected: >= " + first + ")");
      }
      return this;
    }

    public Builder closeTimeout(Duration v) {
      closeTimeout = positive("closeTimeout", v);
      return this;
    }

    /** Signed checkpoints every {@code every} events or {@code interval} (defaults 1000, 60 s). */
    public Builder checkpoints(CheckpointSigner signer, CheckpointStore store, int every, Duration interval) {
      this.signer = Objects.requireNonNull(signer, "signer");
      this.checkpointStore = Objects.requireNonNull(store, "store");
      if (every < 1) {
        throw new IllegalArgumentException("checkpointEvery: " + every + " (expected: > 0)");
      }
      this.checkpointEvery = every;
      this.checkpointInterval = positive("checkpointInterval", interval);
      return this;
    }

    /** Size at which the journal's current segment is rotated (default 16 MiB); two segments are kept. */
    public Builder journalRotateBytes(long v) {
      if (v < 1024) {
        throw new IllegalArgumentException("journalRotateBytes: " + v + " (expected: >= 1024)");
      }
      journalRotateBytes = v;
      return this;
    }

    public Builder clock(Clock v) {
      clock = Objects.requireNonNull(v, "clock");
      return this;
    }

    public AuditPipeline build() {
      return new AuditPipeline(this);
    }

    private static Duration positive(String name, Duration v) {
      Objects.requireNonNull(v, name);
      if (v.isNegative() || v.isZero()) {
        throw new IllegalArgumentException(name + ": " + v + " (expected: > 0)");
      }
      return v;
    }
  }
}

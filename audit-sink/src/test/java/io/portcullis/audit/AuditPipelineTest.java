package io.portcullis.audit;

import static io.portcullis.audit.AuditFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class AuditPipelineTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ConnectionFactory cf;
  static PostgresAuditSink sink;
  static AuditVerifier verifier;

  @TempDir Path spillDir;

  @BeforeAll
  static void schema() {
    cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditSchema.apply(cf).block(Duration.ofSeconds(30));
    sink = new PostgresAuditSink(cf);
    verifier = new AuditVerifier(cf, AuditFixtures.PUBLIC_KEYS);
  }

  AuditPipeline pipeline(String chainId) {
    return AuditPipeline.builder(sink, chainId, spillDir)
        .batchSize(10)
        .batchInterval(Duration.ofMillis(20))
        .sinkTimeout(Duration.ofSeconds(2))
        .probeInterval(Duration.ofMillis(100), Duration.ofMillis(200))
        .checkpoints(new CheckpointSigner(AuditFixtures.KEY), new PostgresCheckpointStore(cf), 25, Duration.ofHours(1))
        .build();
  }

  static List<Long> oneTo(long n) {
    return LongStream.rangeClosed(1, n).boxed().toList();
  }

  @Test
  void spillsWhileTheTableIsGoneAndReplaysInOrderWhenItReturns() throws Exception {
    AuditPipeline p = pipeline("gw-spill");
    p.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 30; i++) {
      p.emit(request(i));
    }
    p.flush().block(Duration.ofSeconds(10));
    assertThat(AuditFixtures.seqs(PG, "gw-spill")).containsExactlyElementsOf(oneTo(30));

    PG.execute("ALTER TABLE portcullis.audit_events RENAME TO audit_events_away");
    try {
      for (int i = 30; i < 69; i++) {
        p.emit(request(i));
      }
      // a tier-2 caller is answered once the event is fsync'd in the spill file, though the sink is down
      StepVerifier.create(p.durable(request(69))).expectComplete().verify(Duration.ofSeconds(10));
      p.flush().block(Duration.ofSeconds(10));
      assertThat(p.stats().spilled()).isEqualTo(40);
      assertThat(p.stats().sinkHealthy()).isFalse();
      assertThat(AuditFixtures.longs(PG, "SELECT count(*) FROM portcullis.audit_events_away WHERE chain_id = 'gw-spill'"))
          .containsExactly(30L);
    } finally {
      PG.execute("ALTER TABLE portcullis.audit_events_away RENAME TO audit_events");
    }

    AuditFixtures.await(() -> p.stats().spillBacklog() == 0, Duration.ofSeconds(10));
    for (int i = 70; i < 75; i++) {
      p.emit(request(i));
    }
    p.close();

    assertThat(AuditFixtures.seqs(PG, "gw-spill")).containsExactlyElementsOf(oneTo(75));
    assertThat(p.stats().replayed()).isEqualTo(40);
    assertThat(p.stats().written()).isEqualTo(35);
    VerificationReport report = verifier.verify("gw-spill", 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as(report.render()).isTrue();
    assertThat(report.eventsChecked()).isEqualTo(75);
    assertThat(report.checkpointsChecked()).isGreaterThanOrEqualTo(3);
    assertThat(Files.size(spillDir.resolve("audit-spill-gw-spill.jsonl"))).isZero();
  }

  @Test
  void eventsJournaledBeforeTheStartCompleteWhenTheStartHasSealedThem() throws Exception {
    AuditPipeline p = pipeline("gw-early");
    java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
    p.emit(request(0));
    p.journaled(request(1)).subscribe(v -> { }, e -> { }, completed::incrementAndGet);
    p.journaled(request(2)).subscribe(v -> { }, e -> { }, completed::incrementAndGet);
    assertThat(completed).as("not journaled before the start").hasValue(0);

    p.start().block(Duration.ofSeconds(10));
    assertThat(completed).hasValue(2);
    p.flush().block(Duration.ofSeconds(10));
    p.close();

    assertThat(AuditFixtures.seqs(PG, "gw-early")).containsExactlyElementsOf(oneTo(3));
    assertThat(verifier.verify("gw-early", 1, Long.MAX_VALUE).block().ok()).isTrue();
  }

  @Test
  void journaledCompletesOnTheCallersThreadAndEventsFromManyThreadsFormOneChain() throws Exception {
    java.util.concurrent.ExecutorService loops = java.util.concurrent.Executors.newFixedThreadPool(4);
    AuditPipeline p = pipeline("gw-loop");
    p.start().block(Duration.ofSeconds(10));
    List<String> strays = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger();
    try {
      List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int base = t * 50;
        done.add(loops.submit(() -> {
          for (int i = base; i < base + 50; i++) {
            String caller = Thread.currentThread().getName();
            // completes while subscribing, on the caller's thread: the response goes on where it is written
            p.journaled(request(i), i % 10 == 0).doOnSuccess(v -> {
              completed.incrementAndGet();
              if (!Thread.currentThread().getName().equals(caller)) {
                strays.add(Thread.currentThread().getName());
              }
            }).subscribe(null, e -> strays.add(e.toString()));
          }
        }));
      }
      for (var f : done) {
        f.get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
      p.flush().block(Duration.ofSeconds(10));
    } finally {
      p.close();
      loops.shutdown();
    }
    assertThat(strays).isEmpty();
    assertThat(completed).hasValue(200);
    assertThat(AuditFixtures.seqs(PG, "gw-loop")).containsExactlyElementsOf(oneTo(200));
    VerificationReport report = verifier.verify("gw-loop", 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as(report.render()).isTrue();
    assertThat(report.eventsChecked()).isEqualTo(200);
  }

  @Test
  void journaledNeverWaitsForTheBatchIntervalAndTheEventsReachTheSinkInOrderInOneBatch() throws Exception {
    AuditPipeline p = AuditPipeline.builder(sink, "gw-interval", spillDir).batchSize(256)
        .batchInterval(Duration.ofSeconds(3)).build();
    p.start().block(Duration.ofSeconds(10));
    try {
      long start = System.nanoTime();
      for (int i = 0; i < 40; i++) {
        p.journaled(request(i)).block(Duration.ofSeconds(2));
      }
      // each response waits for the local journal only, never for the batch to fill or its interval to pass
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
      assertThat(AuditFixtures.seqs(PG, "gw-interval")).isEmpty();
      AuditFixtures.await(() -> AuditFixtures.seqs(PG, "gw-interval").size() == 40, Duration.ofSeconds(10));
    } finally {
      p.close();
    }
    assertThat(AuditFixtures.seqs(PG, "gw-interval")).containsExactlyElementsOf(oneTo(40));
    // one insert (one transaction) for the whole trickle
    assertThat(AuditFixtures.longs(PG,
        "SELECT count(DISTINCT xmin::text) FROM portcullis.audit_events WHERE chain_id = 'gw-interval'"))
        .containsExactly(1L);
    VerificationReport report = verifier.verify("gw-interval", 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  @Test
  void restartContinuesTheChainFromTheStoredHead() {
    AuditPipeline first = pipeline("gw-restart");
    first.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 7; i++) {
      first.emit(request(i));
    }
    first.close();

    AuditPipeline second = pipeline("gw-restart");
    second.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 5; i++) {
      second.emit(request(i));
    }
    second.close();

    assertThat(AuditFixtures.seqs(PG, "gw-restart")).containsExactlyElementsOf(oneTo(12));
    VerificationReport report = verifier.verify("gw-restart", 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as(report.render()).isTrue();
    assertThat(report.checkpointsChecked()).isEqualTo(2); // one per graceful close
  }

  @Test
  void restartReplaysWhatTheLastRunLeftInTheSpillFile() throws Exception {
    AuditPipeline first = pipeline("gw-crash");
    first.start().block(Duration.ofSeconds(10));
    first.emit(request(0));
    first.flush().block(Duration.ofSeconds(10));
    PG.execute("ALTER TABLE portcullis.audit_events RENAME TO audit_events_away2");
    try {
      for (int i = 1; i < 20; i++) {
        first.emit(request(i));
      }
      first.close(); // sink still down: the spill file keeps seq 2..20
    } finally {
      PG.execute("ALTER TABLE portcullis.audit_events_away2 RENAME TO audit_events");
    }
    assertThat(AuditFixtures.seqs(PG, "gw-crash")).containsExactly(1L);

    AuditPipeline second = pipeline("gw-crash");
    second.start().block(Duration.ofSeconds(10));
    second.emit(request(20));
    AuditFixtures.await(() -> second.stats().spillBacklog() == 0, Duration.ofSeconds(10));
    second.close();

    assertThat(AuditFixtures.seqs(PG, "gw-crash")).containsExactlyElementsOf(oneTo(21));
    VerificationReport report = verifier.verify("gw-crash", 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  @Test
  void emitNeverBlocksAndNothingIsLostWhenTheSinkHangs() throws Exception {
    // failure injection only: a sink that never answers; persistence here is the spill file
    AuditSink hanging = new AuditSink() {
      @Override
      public Mono<Void> write(List<AuditEvent> batch) {
        return Mono.never();
      }

      @Override
      public String name() {
        return "hanging";
      }
    };
    AuditPipeline p = AuditPipeline.builder(hanging, "gw-hang", spillDir).batchSize(500)
        .sinkTimeout(Duration.ofMillis(200)).probeInterval(Duration.ofSeconds(5), Duration.ofSeconds(5))
        .queueCapacity(1_000).build();
    p.start().block(Duration.ofSeconds(10));

    long t0 = System.nanoTime();
    for (int i = 0; i < 20_000; i++) {
      p.emit(request(i));
    }
    long emitMillis = (System.nanoTime() - t0) / 1_000_000;
    p.flush().block(Duration.ofSeconds(30));

    assertThat(emitMillis).isLessThan(2_000);
    assertThat(p.stats().spilled()).isEqualTo(20_000);
    assertThat(p.stats().queued()).isZero();
    p.close();
    List<AuditEvent> spilled = JsonLinesAuditSink.readAll(List.of(spillDir.resolve("audit-spill-gw-hang.jsonl")));
    assertThat(spilled).hasSize(20_000);
    assertThat(AuditVerifier.verify("gw-hang", 1, Long.MAX_VALUE, spilled, HashChain.GENESIS, List.of(), null, null)
        .ok()).isTrue();
  }

  @Test
  void tierTwoCallersFailWhileNeitherSinkNorSpillFileTakesEventsAndNothingIsLostAfter() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean sinkUp = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.CopyOnWriteArrayList<AuditEvent> stored = new java.util.concurrent.CopyOnWriteArrayList<>();
    AuditSink flaky = new AuditSink() {
      @Override
      public Mono<Void> write(List<AuditEvent> batch) {
        return Mono.defer(() -> {
          if (!sinkUp.get()) {
            return Mono.error(new IllegalStateException("sink down"));
          }
          stored.addAll(batch);
          return Mono.empty();
        });
      }

      @Override
      public String name() {
        return "flaky";
      }
    };
    Path dir = spillDir.resolve("spill");
    AuditPipeline p = AuditPipeline.builder(flaky, "gw-stranded", dir).batchSize(10)
        .batchInterval(Duration.ofMillis(20)).probeInterval(Duration.ofMillis(50), Duration.ofMillis(100)).build();
    p.start().block(Duration.ofSeconds(10));
    p.durable(request(0)).block(Duration.ofSeconds(10));
    assertThat(p.canPersist()).isTrue();

    // the spill file's directory replaced by a regular file while the sink is down: nowhere to put events
    sinkUp.set(false);
    Path moved = spillDir.resolve("spill-away");
    Files.move(dir, moved);
    Files.writeString(dir, "not a directory");
    StepVerifier.create(p.durable(request(1))).expectError(AuditUnavailableException.class)
        .verify(Duration.ofSeconds(10));
    assertThat(p.canPersist()).isFalse();
    p.emit(request(2));

    Files.delete(dir);
    Files.move(moved, dir);
    AuditFixtures.await(p::canPersist, Duration.ofSeconds(10));
    p.durable(request(3)).block(Duration.ofSeconds(10));
    sinkUp.set(true);
    AuditFixtures.await(() -> p.stats().spillBacklog() == 0, Duration.ofSeconds(10));
    p.flush().block(Duration.ofSeconds(10));
    p.close();
    assertThat(stored).extracting(AuditEvent::seq).containsExactlyElementsOf(oneTo(4));
    assertThat(AuditVerifier.verify("gw-stranded", 1, Long.MAX_VALUE, stored, HashChain.GENESIS, List.of(), null, null)
        .ok()).isTrue();
  }
}

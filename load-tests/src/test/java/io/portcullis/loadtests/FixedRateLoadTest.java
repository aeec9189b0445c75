package io.portcullis.loadtests;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/** The fixed-rate client's percentiles and its coordinated-omission correction, on a fake clock. */
class FixedRateLoadTest {

  static final long MS = 1_000_000;

  /** Time moves only when the sender serves a request or the driver sleeps until a due time. */
  static final class FakeClock implements FixedRateLoad.Clock {
    long now;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void sleepUntil(long deadline) {
      now = Math.max(now, deadline);
    }
  }

  /**
   * Gil Tene's example: 100 requests a second for 10 s to a server answering in 1 ms that stalls once for 1 s. A
   * closed-loop tool (wrk) records one 1 s sample and 999 of 1 ms, so its p99 is 1 ms. Counted from each request's
   * due time, the requests due during the stall waited for it: 1000 ms, 991 ms, 982 ms… (each is served 1 ms after the
   * one before while they come due 10 ms apart) until the backlog is gone.
   */
  @Test
  void requestsDueDuringAStallAreChargedFromTheirDueTime() throws Exception {
    FakeClock clock = new FakeClock();
    clock.now = 7 * MS; // not zero: due times are relative to the start
    List<Integer> served = new ArrayList<>();
    FixedRateLoad.Sender oneConnection = (IntConsumer done) -> {
      clock.now += served.size() == 500 ? 1000 * MS : MS;
      served.add(200);
      done.accept(200);
    };

    FixedRateLoad.Result r = FixedRateLoad.run(clock, oneConnection, 1000, 10 * MS, Duration.ZERO);

    assertThat(r.latencies()).hasSize(1000);
    assertThat(r.percentile(50)).isEqualTo(1 * MS);
    // nearest rank 990 of 1000: 10 samples above it, so the 11th largest, 1000 - 10 x 9 (wrk's would be 1 ms)
    assertThat(r.percentile(99)).isEqualTo(910 * MS);
    assertThat(r.percentile(99.9)).isEqualTo(991 * MS); // the 2nd largest
    assertThat(r.percentile(100)).isEqualTo(1000 * MS);
    // sent more than 1 ms after their due time: the 110 behind the stalled one, until the backlog was gone
    assertThat(r.lateSends()).isEqualTo(110);
    assertThat(r.errors()).isZero();
    assertThat(r.non2xx()).isZero();
  }

  /** The same stall, found as one episode at its due time: what lines it up with the server's GC or I/O record. */
  @Test
  void aStallIsReportedOnceAtTheDueTimeOfItsFirstVictim() throws Exception {
    FakeClock clock = new FakeClock();
    int[] served = {0};
    FixedRateLoad.Sender oneConnection = done -> {
      int i = served[0]++;
      clock.now += i == 500 ? 1000 * MS : i == 800 ? 30 * MS : MS;
      done.accept(200);
    };

    FixedRateLoad.Result r = FixedRateLoad.run(clock, oneConnection, 1000, 10 * MS, Duration.ZERO);

    // requests 500…: 1000 ms, 991 ms, … 19 ms (110 of them, the next is 10 ms: not slower than 10); 800: 30 ms,
    // then 21 ms and 12 ms behind it
    assertThat(r.stalls(10 * MS)).containsExactly(
        new FixedRateLoad.Stall(500 * 10 * MS, 110, 1000 * MS),
        new FixedRateLoad.Stall(800 * 10 * MS, 3, 30 * MS));
    assertThat(r.stalls(2000 * MS)).isEmpty();
  }

  @Test
  void aServerKeepingUpIsMeasuredAtItsServiceTime() throws Exception {
    FakeClock clock = new FakeClock();
    FixedRateLoad.Sender fast = done -> {
      clock.now += 2 * MS;
      done.accept(200);
    };

    FixedRateLoad.Result r = FixedRateLoad.run(clock, fast, 300, 5 * MS, Duration.ZERO);

    assertThat(r.percentile(50)).isEqualTo(2 * MS);
    assertThat(r.percentile(99.9)).isEqualTo(2 * MS);
    assertThat(r.lateSends()).isZero();
    // 300 requests due 5 ms apart: the run lasts as long as the schedule, not as long as the answers
    assertThat(clock.now).isEqualTo(299 * 5 * MS + 2 * MS);
  }

  @Test
  void errorsAndUnfinishedRequestsAreCountedNotTimed() throws Exception {
    FakeClock clock = new FakeClock();
    int[] n = {0};
    FixedRateLoad.Sender flaky = done -> {
      clock.now += MS;
      int i = n[0]++;
      if (i % 10 == 0) {
        done.accept(0); // transport error: counted, and its latency kept (it did end)
      } else if (i % 10 == 1) {
        done.accept(503);
      } else if (i % 10 != 2) {
        done.accept(200);
      } // i % 10 == 2: never answers
    };

    FixedRateLoad.Result r = FixedRateLoad.run(clock, flaky, 100, 10 * MS, Duration.ofMillis(1));

    assertThat(r.missing()).isEqualTo(10);
    assertThat(r.latencies()).hasSize(90);
    assertThat(r.errors()).isEqualTo(20); // 10 transport errors + 10 that never ended
    assertThat(r.non2xx()).isEqualTo(10);
  }

  @Test
  void percentilesAreNearestRank() {
    long[] sorted = new long[1000];
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = i + 1;
    }
    assertThat(FixedRateLoad.Result.percentile(sorted, 50)).isEqualTo(500);
    assertThat(FixedRateLoad.Result.percentile(sorted, 99)).isEqualTo(990);
    assertThat(FixedRateLoad.Result.percentile(sorted, 99.9)).isEqualTo(999);
    assertThat(FixedRateLoad.Result.percentile(sorted, 100)).isEqualTo(1000);
    assertThat(FixedRateLoad.Result.percentile(new long[] {7}, 99.9)).isEqualTo(7);
    assertThat(FixedRateLoad.Result.percentile(new long[0], 99)).isZero();
  }
}

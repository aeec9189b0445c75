package io.portcullis.loadtests;

import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * Latency at a fixed request rate (open model), for issue 9's "≤ 1 ms added p99 at half of saturation": wrk is closed
 * loop, so a stall of the server also stalls wrk's sending and the requests it did not send are never measured
 * (coordinated omission). Here request {@code i} is due at {@code start + i / rate}, whatever happened before, and its
 * latency is counted from that due time to the end of its answer's body: a request that could not even be sent on
 * time (the sender or every connection busy) is charged for its wait.
 *
 * <pre>
 * FixedRateLoad RATE SECONDS WARMUP_SECONDS CONNECTIONS NAME=URL[|BEARER_TOKEN] ...
 * </pre>
 *
 * Each target in turn: a warm-up at the rate (discarded: the JIT of this client and of the server), then the measured
 * run. Prints one line per target: {@code FIXED name=… rate=… requests=… p50_ms=… p99_ms=… p999_ms=… max_ms=…
 * errors=… non2xx=… late_sends=…}. Percentiles are exact (every latency kept and sorted), nearest rank.
 * {@code late_sends} counts requests the sender issued more than a millisecond after their due time: when it is a large
 * share, this client (not the target) was the bottleneck and the figures are not worth much. With
 * {@code FIXED_STALL_MS=N} in the environment it also prints {@code STALL name=… at=… requests=… max_ms=…} for each run
 * of consecutive requests slower than N ms.
 */
public final class FixedRateLoad {

  private FixedRateLoad() {
  }

  /** Time source and sleeping, replaceable by a fake clock in tests. */
  interface Clock {
    long nanoTime();

    /** Returns at or after {@code deadline} (in {@link #nanoTime()} terms). */
    void sleepUntil(long deadline);
  }

  static final Clock SYSTEM = new Clock() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public void sleepUntil(long deadline) {
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        LockSupport.parkNanos(left);
      }
    }
  };

  /** Sends one request; calls {@code done} once with the status (0 for a transport error or timeout) when it ends. */
  interface Sender {
    void send(IntConsumer done);
  }

  /** The outcome of one fixed-rate run. Latencies in nanoseconds, from each request's due time. */
  record Result(long[] latencies, int errors, int non2xx, int lateSends, int missing, long[] bySlot,
      long periodNanos) {

    /**
     * The runs of consecutive requests slower than {@code thresholdNanos} (a request that never ended counts as slow):
     * each a stall of the target, placed at the due time of its first request (nanoseconds from the run's start), to
     * line up with the server's own GC and I/O records.
     */
    List<Stall> stalls(long thresholdNanos) {
      List<Stall> out = new ArrayList<>();
      int first = -1;
      long max = 0;
      for (int i = 0; i <= bySlot.length; i++) {
        boolean slow = i < bySlot.length && (bySlot[i] < 0 || bySlot[i] > thresholdNanos);
        if (slow) {
          if (first < 0) {
            first = i;
            max = 0;
          }
          max = Math.max(max, bySlot[i] < 0 ? Long.MAX_VALUE : bySlot[i]);
        } else if (first >= 0) {
          out.add(new Stall(first * periodNanos, i - first, max));
          first = -1;
        }
      }
      return out;
    }

    /** Nearest-rank percentile ({@code p} in 0–100) of the latencies, in nanoseconds; 0 when there are none. */
    long percentile(double p) {
      return percentile(sorted(), p);
    }

    long[] sorted() {
      long[] s = latencies.clone();
      Arrays.sort(s);
      return s;
    }

    static long percentile(long[] sorted, double p) {
      if (sorted.length == 0) {
        return 0;
      }
      // nearest rank: the smallest value with at least p % of the samples at or below it; the epsilon keeps
      // 99.9 % of 1000 at rank 999 (99.9 / 100 * 1000 is 999.0000000000001 in doubles)
      int rank = (int) Math.ceil(p / 100.0 * sorted.length - 1e-9);
      return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }
  }

  /**
   * Issues {@code count} requests, request {@code i} due at {@code start + i * periodNanos}, and waits up to
   * {@code drain} after the last due time for the outstanding ones (those still outstanding then count as errors,
   * without a latency: {@code missing}).
   */
  static Result run(Clock clock, Sender sender, int count, long periodNanos, Duration drain)
      throws InterruptedException {
    AtomicLongArray latencies = new AtomicLongArray(count); // a slot per request: -1 until it ends
    for (int i = 0; i < count; i++) {
      latencies.set(i, -1);
    }
    AtomicInteger errors = new AtomicInteger();
    AtomicInteger non2xx = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(count);
    int late = 0;
    long start = clock.nanoTime();
    for (int i = 0; i < count; i++) {
      long due = start + i * periodNanos;
      clock.sleepUntil(due);
      if (clock.nanoTime() - due > 1_000_000) {
        late++;
      }
      int slot = i;
      sender.send(status -> {
        latencies.set(slot, clock.nanoTime() - due);
        if (status == 0) {
          errors.incrementAndGet();
        } else if (status < 200 || status > 299) {
          non2xx.incrementAndGet();
        }
        all.countDown();
      });
    }
    all.await(drain.toNanos(), TimeUnit.NANOSECONDS);
    long[] kept = new long[count];
    int n = 0;
    for (int i = 0; i < count; i++) {
      long l = latencies.get(i);
      if (l >= 0) {
        kept[n++] = l;
      }
    }
    int missing = count - n;
    long[] bySlot = new long[count];
    for (int i = 0; i < count; i++) {
      bySlot[i] = latencies.get(i);
    }
    return new Result(Arrays.copyOf(kept, n), errors.get() + missing, non2xx.get(), late, missing, bySlot,
        periodNanos);
  }

  /** Consecutive slow requests: the first one's due time (ns from the run's start), how many, the slowest. */
  record Stall(long startNanos, int requests, long maxNanos) {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: FixedRateLoad RATE SECONDS WARMUP_SECONDS CONNECTIONS NAME=URL[|TOKEN] ...");
      System.exit(2);
    }
    double rate = Double.parseDouble(args[0]);
    int seconds = Integer.parseInt(args[1]);
    int warmup = Integer.parseInt(args[2]);
    int connections = Integer.parseInt(args[3]);
    long period = Math.round(1e9 / rate);
    // FIXED_STALL_MS=N: also list each run of consecutive requests slower than N ms with its wall-clock time, to set
    // against the target's GC log or flight recording
    long stallMillis = Long.parseLong(System.getenv().getOrDefault("FIXED_STALL_MS", "0"));
    // one event loop: the client runs pinned to one core; a second loop would only contend with it
    LoopResources loop = LoopResources.create("fixed-rate", 1, true);
    ConnectionProvider pool = ConnectionProvider.builder("fixed-rate").maxConnections(connections)
        .pendingAcquireMaxCount(-1).pendingAcquireTimeout(Duration.ofSeconds(30)).build();
    try {
      for (int a = 4; a < args.length; a++) {
        String spec = args[a];
        int eq = spec.indexOf('=');
        int bar = spec.indexOf('|');
        String name = spec.substring(0, eq);
        String url = bar < 0 ? spec.substring(eq + 1) : spec.substring(eq + 1, bar);
        String token = bar < 0 ? "" : spec.substring(bar + 1);
        // the timeout on the event loop's own timer: Reactor's timeout() would schedule a task on another thread
        // per request, which costs this client more CPU than the request itself
        HttpClient client = HttpClient.create(pool).runOn(loop).option(ChannelOption.TCP_NODELAY, true)
            .responseTimeout(Duration.ofSeconds(10))
            .headers(h -> {
              if (!token.isEmpty()) {
                h.set("Authorization", "Bearer " + token);
              }
            });
        // the body read to its end and dropped (Reactor Netty releases each buffer after delivering it): no copy
        Sender sender = done -> client.get().uri(url)
            .response((res, body) -> body.then(Mono.fromSupplier(() -> res.status().code())))
            .next()
            .onErrorResume(e -> Mono.just(0))
            .subscribe(done::accept);
        if (warmup > 0) {
          run(SYSTEM, sender, (int) (rate * warmup), period, Duration.ofSeconds(15));
        }
        long wallStart = System.currentTimeMillis();
        Result r = run(SYSTEM, sender, (int) (rate * seconds), period, Duration.ofSeconds(15));
        long[] s = r.sorted();
        if (stallMillis > 0) {
          for (Stall st : r.stalls(stallMillis * 1_000_000L)) {
            System.out.println(String.format(Locale.ROOT, "STALL name=%s at=%s requests=%d max_ms=%.1f", name,
                Instant.ofEpochMilli(wallStart + st.startNanos() / 1_000_000), st.requests(),
                st.maxNanos() == Long.MAX_VALUE ? -1.0 : ms(st.maxNanos())));
          }
        }
        System.out.println(String.format(Locale.ROOT,
            "FIXED name=%s rate=%.0f requests=%d p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%d "
                + "non2xx=%d late_sends=%d",
            name, rate, r.latencies().length + r.missing(), ms(Result.percentile(s, 50)),
            ms(Result.percentile(s, 99)), ms(Result.percentile(s, 99.9)), ms(s.length == 0 ? 0 : s[s.length - 1]),
            r.errors(), r.non2xx(), r.lateSends()));
      }
    } finally {
      pool.disposeLater().block(Duration.ofSeconds(5));
      loop.disposeLater().block(Duration.ofSeconds(5));
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}

package io.portcullis.gateway.quota;

import io.portcullis.gateway.quota.QuotaProperties.AnomalyResponse;
import io.portcullis.gateway.quota.QuotaProperties.AnomalyRule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Spikes in the rows and bytes an app is returned per minute (issue 6, anomaly response). On the request path an
 * app's completed request adds to its current-minute counters and compares them with thresholds computed beforehand
 * (one map lookup, two atomic adds, two compares), so a bulk export is caught while it runs, not a minute later. Once
 * a minute, off the request path, {@link #rollUp} closes each app's minute into its rolling baseline and computes the
 * next minute's thresholds.
 *
 * <p>The counters are this replica's: behind a load balancer each replica sees its share of both the baseline and
 * the spike, so the ratio it judges is the same. A minute judged a spike enters the baseline as an ordinary minute
 * (its baseline value), so a sustained export keeps being flagged each minute instead of teaching the baseline.
 */
final class AnomalyDetector implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AnomalyDetector.class);
  private static final long MINUTE_MILLIS = 60_000;

  private final QuotaProperties.Anomaly config;
  private final Clock clock;
  private final Consumer<Spike> responses;
  private final Map<String, Window> windows = new ConcurrentHashMap<>();
  private final Map<String, Throttle> throttles = new ConcurrentHashMap<>();
  private final @Nullable Disposable ticker;
  private long rolledMinute;

  /**
   * @param responses what a spike triggers besides the throttle kept here (the audit event, the pause)
   * @param tick      how often to look whether a minute has ended; null: only when {@link #rollUp} is called
   */
  AnomalyDetector(QuotaProperties.Anomaly config, Clock clock, Consumer<Spike> responses, @Nullable Duration tick) {
    this.config = config;
    this.clock = clock;
    this.responses = responses;
    this.rolledMinute = clock.millis() / MINUTE_MILLIS;
    this.ticker = tick == null || !config.enabled() ? null : Flux.interval(tick, tick)
        .onBackpressureDrop()
        .subscribe(t -> {
          try {
            rollUp();
          } catch (RuntimeException e) {
            log.error("anomaly roll-up failed; the baselines keep their previous minute", e);
          }
        });
  }

  /** Counts a finished request's result towards the app's minute; responds at once when that makes it a spike. */
  void record(String app, int tier, String costCenter, long rows, long bytes) {
    if (!config.enabled()) {
      return;
    }
    Window w = windows.get(app);
    if (w == null) {
      w = windows.computeIfAbsent(app, a -> new Window(a, config.baselineMinutes(), clock.millis() / MINUTE_MILLIS));
    }
    if (w.tier != tier || w.costCenter != costCenter) {
      // a config change: rare, so no volatile write (and no cache-line traffic) per request
      w.tier = tier;
      w.costCenter = costCenter;
    }
    long r = rows == 0 ? w.rows.get() : w.rows.addAndGet(rows);
    long b = bytes == 0 ? w.bytes.get() : w.bytes.addAndGet(bytes);
    Judgement j = w.judgement;
    if ((r > j.rowLimit || b > j.byteLimit) && w.flagged.compareAndSet(false, true)) {
      spike(w, j, r, b);
    }
  }

  /** The throttle an earlier spike put on the app, while it lasts. */
  @Nullable Throttle throttle(String app) {
    if (throttles.isEmpty()) {
      return null;
    }
    Throttle t = throttles.get(app);
    if (t != null && clock.millis() >= t.untilMillis()) {
      throttles.remove(app, t);
      return null;
    }
    return t;
  }

  /**
   * Closes every app's minute when the clock has entered a new one: the counts join the baseline, and the thresholds
   * for the new minute are computed. Idle minutes (nothing returned) are left out: an app used in office hours is
   * judged against its working minutes, so neither the first read of the morning looks like a spike nor does a night
   * of silence lower the bar for an export. Called every tick, and by tests that move the
   * clock.
   */
  synchronized void rollUp() {
    long minute = clock.millis() / MINUTE_MILLIS;
    if (minute <= rolledMinute) {
      return;
    }
    rolledMinute = minute;
    for (Window w : windows.values()) {
      if (w.minute >= minute) {
        continue;
      }
      Judgement closing = w.judgement;
      long rows = w.rows.getAndSet(0);
      long bytes = w.bytes.getAndSet(0);
      if (w.flagged.getAndSet(false)) {
        w.push(Math.round(closing.baselineRows), Math.round(closing.baselineBytes));
      } else if (rows != 0 || bytes != 0) {
        w.push(rows, bytes);
      }
      w.minute = minute;
      w.judgement = judge(w, config.rule(w.app, w.tier), minute);
    }
  }

  private Judgement judge(Window w, AnomalyRule rule, long minute) {
    int n = Math.min(w.history, config.baselineMinutes());
    double baselineRows = n == 0 ? 0 : (double) w.sum(w.pastRows) / n;
    double baselineBytes = n == 0 ? 0 : (double) w.sum(w.pastBytes) / n;
    if (w.history < config.warmupMinutes()) {
      return new Judgement(rule, baselineRows, baselineBytes, Long.MAX_VALUE, Long.MAX_VALUE, minute, n);
    }
    return new Judgement(rule, baselineRows, baselineBytes, limit(rule.factor(), baselineRows, rule.minRows()),
        limit(rule.factor(), baselineBytes, rule.minBytes()), minute, n);
  }

  private static long limit(double factor, double baseline, long floor) {
    double l = Math.floor(factor * baseline);
    return l >= Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(floor, (long) l);
  }

  private void spike(Window w, Judgement j, long rows, long bytes) {
    AnomalyRule rule = j.rule;
    boolean byRows = rows > j.rowLimit;
    Instant windowStart = Instant.ofEpochMilli(j.minute * MINUTE_MILLIS);
    long now = clock.millis();
    Throttle throttle = null;
    if (rule.response() == AnomalyResponse.THROTTLE) {
      throttle = new Throttle(rule.throttleTo(), now + rule.throttleFor().toMillis());
      throttles.put(w.app, throttle);
    }
    responses.accept(new Spike(w.app, w.tier, w.costCenter, rule.response(), byRows ? "rows" : "bytes",
        byRows ? rows : bytes, byRows ? j.baselineRows : j.baselineBytes, rule.factor(),
        byRows ? j.rowLimit : j.byteLimit, rows, bytes, windowStart, j.minutes, throttle));
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.dispose();
    }
  }

  /** A lowered rate: {@code share} of the app's own rate and burst until {@code untilMillis} (the injected clock's). */
  record Throttle(double share, long untilMillis) {

    LimitSpec applyTo(LimitSpec rate) {
      return rate.divided(1 / share);
    }
  }

  /**
   * The evidence of one spike: {@code observed} {@code metric} (rows or bytes) in the minute starting at
   * {@code window}, above {@code threshold} = max(floor, {@code factor} × {@code baseline}), the baseline being the
   * mean over the app's last {@code baselineMinutes} minutes.
   */
  record Spike(String app, int tier, String costCenter, AnomalyResponse response, String metric, long observed,
      double baseline, double factor, long threshold, long rows, long bytes, Instant window, int baselineMinutes,
      @Nullable Throttle throttle) {

    /** One line, {@code key=value} pairs: what the audit event and the log carry. */
    String evidence() {
      StringBuilder s = new StringBuilder(200)
          .append("metric=").append(metric)
          .append(" observed=").append(observed)
          .append(" baseline=").append(QuotaStage.format(baseline))
          .append(" factor=").append(QuotaStage.format(factor))
          .append(" threshold=").append(threshold)
          .append(" window=").append(window).append("/PT1M")
          .append(" baseline_minutes=").append(baselineMinutes)
          .append(" response=").append(response.json());
      if (throttle != null) {
        s.append(" throttle_to=").append(QuotaStage.format(throttle.share()))
            .append(" until=").append(Instant.ofEpochMilli(throttle.untilMillis()));
      }
      return s.toString();
    }
  }

  /** What the current minute is judged against; replaced as a whole once a minute. */
  private record Judgement(AnomalyRule rule, double baselineRows, double baselineBytes, long rowLimit, long byteLimit,
      long minute, int minutes) {
  }

  /** One app's counters and baseline. The ring and {@code minute} are touched only by {@link #rollUp}. */
  private static final class Window {
    final String app;
    final AtomicLong rows = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicBoolean flagged = new AtomicBoolean();
    final long[] pastRows;
    final long[] pastBytes;
    volatile int tier;
    volatile String costCenter = "";
    volatile Judgement judgement;
    int next;
    int history;
    long minute;

    Window(String app, int size, long minute) {
      this.app = app;
      this.pastRows = new long[size];
      this.pastBytes = new long[size];
      this.minute = minute;
      this.judgement = new Judgement(QuotaProperties.Anomaly.DEFAULT_RULE, 0, 0, Long.MAX_VALUE, Long.MAX_VALUE,
          minute, 0);
    }

    void push(long r, long b) {
      pastRows[next] = r;
      pastBytes[next] = b;
      next = (next + 1) % pastRows.length;
      if (history < Integer.MAX_VALUE) {
        history++;
      }
    }

    long sum(long[] values) {
      long s = 0;
      for (long v : values) {
        s += v;
      }
      return s;
    }
  }
}

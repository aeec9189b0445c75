package io.portcullis.audit.lineage;

import io.openlineage.client.OpenLineage;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Folds allowed request events into per-minute counts per app × dataset × direction (reads, writes), and turns each
 * closed minute into one OpenLineage run event per app ({@link LineageEvents}): lineage stays one event per app per
 * minute however many requests there were. {@link #record} is a map lookup and three adds: cheap enough for the
 * request path, and lock-free.
 *
 * <p>A minute is drained once {@code grace} has passed after its end; an event recorded later than that for a
 * drained minute starts a new count that goes out with the next drain (never lost, at worst split in two).
 */
public final class LineageAggregator {

  private final ConcurrentHashMap<Key, Totals> counts = new ConcurrentHashMap<>();
  private final OpenLineage openLineage;
  private final URI producer;
  private final String jobNamespace;
  private final String datasetNamespace;
  private final Duration grace;

  /**
   * @param producer         the {@code producer} URI of the events (this gateway build)
   * @param jobNamespace     namespace of the jobs (one job per app), e.g. {@code portcullis}
   * @param datasetNamespace namespace of the datasets, e.g. {@code portcullis}
   * @param grace            how long after a minute's end its counts wait for late events
   */
  public LineageAggregator(URI producer, String jobNamespace, String datasetNamespace, Duration grace) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.openLineage = new OpenLineage(producer);
    this.jobNamespace = Objects.requireNonNull(jobNamespace, "jobNamespace");
    this.datasetNamespace = Objects.requireNonNull(datasetNamespace, "datasetNamespace");
    this.grace = Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace: " + grace + " (expected: >= 0)");
    }
  }

  /** Counts a request event that read or wrote a dataset; anything else (denied, failed, broker events) is ignored. */
  public void record(AuditEvent e) {
    if (e.eventType() != EventType.REQUEST || e.outcome() != Outcome.ALLOWED || e.appId() == null
        || e.resourceId() == null || !"dataset".equals(e.resourceType()) || e.action() == null) {
      return;
    }
    Direction direction = switch (e.action()) {
      case "read" -> Direction.READ;
      case "create", "update", "delete" -> Direction.WRITE;
      default -> null;
    };
    if (direction == null) {
      return;
    }
    Key key = new Key(e.timestamp().getEpochSecond() / 60, e.appId(), e.resourceId(), direction);
    counts.computeIfAbsent(key, k -> new Totals()).add(e.rows(), e.bytes());
  }

  /** Run events for every minute closed (plus grace) at {@code now}, removing their counts. */
  public List<OpenLineage.RunEvent> drain(Instant now) {
    long closedBefore = (now.minus(grace).getEpochSecond()) / 60; // minutes < this one are closed
    return drainWhere(k -> k.minute < closedBefore);
  }

  /** Run events for everything counted so far, the current minute included (at shutdown, and for tests). */
  public List<OpenLineage.RunEvent> drainAll() {
    return drainWhere(k -> true);
  }

  private List<OpenLineage.RunEvent> drainWhere(Predicate<Key> closed) {
    // (minute, app) -> dataset -> totals, per direction; sorted so events go out in time order
    TreeMap<String, Map<Direction, TreeMap<String, LineageEvents.Counts>>> byRun = new TreeMap<>();
    for (Iterator<Map.Entry<Key, Totals>> it = counts.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Key, Totals> en = it.next();
      Key k = en.getKey();
      if (!closed.test(k)) {
        continue;
      }
      it.remove();
      String run = String.format("%020d/%s", k.minute, k.app);
      byRun.computeIfAbsent(run, r -> new EnumMap<>(Direction.class))
          .computeIfAbsent(k.direction, d -> new TreeMap<>())
          .merge(k.dataset, en.getValue().snapshot(), LineageEvents.Counts::plus);
    }
    List<OpenLineage.RunEvent> events = new ArrayList<>(byRun.size());
    byRun.forEach((run, byDirection) -> {
      int slash = run.indexOf('/');
      events.add(LineageEvents.runEvent(openLineage, producer, jobNamespace, datasetNamespace, run.substring(slash + 1),
          Long.parseLong(run.substring(0, slash)),
          byDirection.getOrDefault(Direction.READ, new TreeMap<>()),
          byDirection.getOrDefault(Direction.WRITE, new TreeMap<>())));
    });
    return events;
  }

  enum Direction { READ, WRITE }

  private record Key(long minute, String app, String dataset, Direction direction) {}

  private static final class Totals {
    final LongAdder requests = new LongAdder();
    final LongAdder rows = new LongAdder();
    final LongAdder bytes = new LongAdder();

    void add(Long r, Long b) {
      requests.increment();
      if (r != null) {
        rows.add(r);
      }
      if (b != null) {
        bytes.add(b);
      }
    }

    LineageEvents.Counts snapshot() {
      return new LineageEvents.Counts(requests.sum(), rows.sum(), bytes.sum());
    }
  }
}

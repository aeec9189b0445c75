package io.portcullis.loadtests;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Rows per second of one read through Portcullis's PostgreSQL connector (HTTP, NDJSON, row filter and two masks
 * applied by the gateway) against the same query read directly with R2DBC from the same database, in one run,
 * alternating (issue #5: target ≥ 70 % of direct). Run by {@code load-tests/connector-bench.sh}, which seeds the table,
 * starts the gateway and passes:
 *
 * <pre>
 * ConnectorBench R2DBC_URL GATEWAY_URL TOKEN TEAM [ROUNDS=5] [WARMUP=2] [GATEWAY_PID]
 * </pre>
 *
 * The direct read is the statement the gateway sends (the row filter {@code team = $1} in WHERE, key order, the same
 * columns), each row's values taken out of the driver as a plain R2DBC client takes them, {@code row.get(i)} per
 * column (the gateway itself takes unmasked text and numbers as their text form, a shortcut this baseline does not
 * take, since a client reading directly wants the values); the gateway read counts NDJSON lines as they arrive.
 * Prints one line per run and the medians: rows per second (wall clock), and, given the gateway's process id, CPU time
 * per row — the gateway process's for its reads, this process's for the direct ones — which a busy shared machine
 * disturbs far less than the wall clock.
 */
public final class ConnectorBench {

  static final String COLUMNS = "\"id\", \"team\", \"name\", \"email\", \"phone\", \"score\"";
  static final int LIMIT = 1_000_000;

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: ConnectorBench R2DBC_URL GATEWAY_URL TOKEN TEAM [ROUNDS=5] [WARMUP=2]");
      System.exit(2);
    }
    ConnectionFactory connections = ConnectionFactories.get(args[0]);
    String gateway = args[1];
    String token = args[2];
    String team = args[3];
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
    int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 2;
    long gatewayPid = args.length > 6 ? Long.parseLong(args[6]) : -1;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    checkMasked(http, gateway, token);
    for (int i = 0; i < warmup; i++) {
      direct(connections, team);
      viaGateway(http, gateway, token, gatewayPid);
    }
    List<Double> direct = new ArrayList<>();
    List<Double> gw = new ArrayList<>();
    List<Double> directCpu = new ArrayList<>();
    List<Double> gwCpu = new ArrayList<>();
    long expected = -1;
    for (int r = 1; r <= rounds; r++) {
      // every other round the other way round, so neither side always runs on a warmer cache
      Run a = r % 2 == 1 ? direct(connections, team) : viaGateway(http, gateway, token, gatewayPid);
      Run b = r % 2 == 1 ? viaGateway(http, gateway, token, gatewayPid) : direct(connections, team);
      Run d = a.name.equals("direct") ? a : b;
      Run g = a.name.equals("direct") ? b : a;
      if (expected < 0) {
        expected = d.rows;
      }
      if (d.rows != expected || g.rows != expected) {
        throw new IllegalStateException("row counts differ: direct " + d.rows + ", gateway " + g.rows);
      }
      direct.add(d.rowsPerSecond());
      gw.add(g.rowsPerSecond());
      directCpu.add(d.cpuNanosPerRow());
      gwCpu.add(g.cpuNanosPerRow());
      System.out.printf(Locale.ROOT, "round %d: direct %.0f rows/s, gateway %.0f rows/s (%d rows each), ratio %.2f;"
              + " CPU per row: direct %.2f us, gateway %.2f us%n", r, d.rowsPerSecond(), g.rowsPerSecond(), d.rows,
          g.rowsPerSecond() / d.rowsPerSecond(), d.cpuNanosPerRow() / 1000, g.cpuNanosPerRow() / 1000);
    }
    double md = median(direct);
    double mg = median(gw);
    System.out.printf(Locale.ROOT, "RESULT rows=%d direct_rows_per_s=%.0f gateway_rows_per_s=%.0f ratio=%.2f"
            + " direct_cpu_us_per_row=%.2f gateway_cpu_us_per_row=%.2f cpu_ratio=%.2f rounds=%d%n",
        expected, md, mg, mg / md, median(directCpu) / 1000, median(gwCpu) / 1000,
        median(directCpu) / median(gwCpu), rounds);
  }

  /** One read: rows, wall-clock nanoseconds, and CPU nanoseconds of the process that read from PostgreSQL (-1: unknown). */
  record Run(String name, long rows, long nanos, long cpuNanos) {
    double rowsPerSecond() {
      return rows * 1e9 / nanos;
    }

    double cpuNanosPerRow() {
      return cpuNanos < 0 ? Double.NaN : (double) cpuNanos / rows;
    }
  }

  /** This process's CPU time: during a direct read, that read's (the harness does nothing else then). */
  static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** user + system time of a process from /proc (Linux), in nanoseconds at the kernel's clock-tick resolution. */
  static long processCpuNanos(long pid) {
    if (pid < 0) {
      return -1;
    }
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      // fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * (1_000_000_000L / CLOCK_TICKS);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** USER_HZ: 100 on every Linux the project runs on ({@code getconf CLK_TCK}). */
  static final long CLOCK_TICKS = 100;

  /** The gateway's statement, read with R2DBC: values taken out of each row, nothing encoded. */
  static Run direct(ConnectionFactory connections, String team) {
    String sql = "SELECT " + COLUMNS + " FROM \"bench\".\"people\" WHERE (\"team\" = $1) ORDER BY \"id\" ASC LIMIT $2";
    long start = System.nanoTime();
    long cpu = ownCpuNanos();
    Long rows = Flux.usingWhen(Mono.from(connections.create()),
            (Connection c) -> Flux.from(c.createStatement(sql).bind(0, team).bind(1, LIMIT + 1).execute())
                .flatMap(result -> result.map((row, meta) -> {
                  Object[] values = new Object[6];
                  for (int i = 0; i < values.length; i++) {
                    values[i] = row.get(i);
                  }
                  return values;
                })),
            Connection::close)
        .count()
        .block(Duration.ofMinutes(5));
    return new Run("direct", rows == null ? 0 : rows, System.nanoTime() - start, ownCpuNanos() - cpu);
  }

  /** {@code GET /data/bench.people} as NDJSON, rows counted as lines as they arrive. */
  static Run viaGateway(HttpClient http, String gateway, String token, long pid)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    long cpu = processCpuNanos(pid);
    HttpResponse<InputStream> response = http.send(request(gateway, token), HttpResponse.BodyHandlers.ofInputStream());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("gateway answered " + response.statusCode() + ": "
          + new String(response.body().readAllBytes(), StandardCharsets.UTF_8));
    }
    long rows = 0;
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = response.body()) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            rows++;
          }
        }
      }
    }
    long elapsed = System.nanoTime() - start;
    long cpuAfter = processCpuNanos(pid);
    return new Run("gateway", rows, elapsed, cpu < 0 || cpuAfter < 0 ? -1 : cpuAfter - cpu);
  }

  /** The benchmark measures governed rows: the first ones must come back filtered and masked. */
  static void checkMasked(HttpClient http, String gateway, String token) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway + "/data/bench.people?limit=3"))
        .header("Authorization", "Bearer " + token).header("Accept", "application/x-ndjson").build(),
        HttpResponse.BodyHandlers.ofString());
    String body = r.body();
    if (r.statusCode() != 200 || !body.contains("\"email\":\"****@") || body.contains("team-sales")
        || !body.contains("\"phone\":\"****")) {
      throw new IllegalStateException("not the governed rows expected: " + r.statusCode() + " " + body);
    }
  }

  static HttpRequest request(String gateway, String token) {
    return HttpRequest.newBuilder(URI.create(gateway + "/data/bench.people?limit=" + LIMIT))
        .header("Authorization", "Bearer " + token).header("Accept", "application/x-ndjson")
        .timeout(Duration.ofMinutes(5)).build();
  }

  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}

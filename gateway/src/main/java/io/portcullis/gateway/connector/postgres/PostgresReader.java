package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Decision;
import io.portcullis.policy.model.Column;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.PostgresSource;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reads from a PostgreSQL-backed dataset (DESIGN.md §1 stage 4): one parameterized SELECT with the row filter in
 * WHERE and only permitted columns, masks applied per row, written as a JSON array or NDJSON.
 *
 * <p>Pages up to {@link #PAGE_BUFFER_ROWS} rows are gathered before the headers are sent, because the {@code Link}
 * to the next page names the last row; larger reads (exports) stream in chunks of rows with back-pressure and no
 * {@code Link}, so memory stays flat whatever their size.
 */
public final class PostgresReader {

  public static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");
  static final int PAGE_BUFFER_ROWS = 1000;
  /** Rows per HTTP chunk of a streamed read, and how long a chunk waits to fill before it goes out part-full. */
  static final int ROWS_PER_CHUNK = 1024;
  static final Duration CHUNK_WAIT = Duration.ofMillis(5);
  /** How long a shape's cost estimate is trusted before the table's statistics are asked again. */
  static final Duration COST_ESTIMATE_TTL = Duration.ofMinutes(10);
  private static final byte[] OPEN = {'['};
  private static final byte[] CLOSE = {']'};

  private final SourcePools pools;
  private final CostGuard costGuard;
  private final PostgresConnectorProperties properties;

  public PostgresReader(SourcePools pools, PostgresConnectorProperties properties) {
    this.pools = Objects.requireNonNull(pools, "pools");
    this.properties = Objects.requireNonNull(properties, "properties");
    this.costGuard = new CostGuard(properties.costCacheShapes(), COST_ESTIMATE_TTL);
  }

  public Mono<ServerResponse> read(ServerRequest request, Dataset dataset, PostgresSource source, Decision decision,
      @Nullable String id) {
    RequestContext ctx = RequestContext.of(request.exchange());
    ColumnPlan plan = decision.columns();
    DataQuery query = DataQueryParser.parse(queryParams(request), dataset, plan, source.key());
    Object keyValue = id == null ? null : ColumnValues.parse(keyType(dataset, source.key()), id, source.key());
    SelectStatement statement = SelectStatement.build(qualified(source), dataset.roles().softDelete(),
        decision.rowFilter(), query, id == null ? null : source.key(), keyValue);
    ctx.queryFingerprint(statement.fingerprint());
    RowEncoder encoder = new RowEncoder(statement, plan, cursorColumns(query, id));
    HttpHeaders masked = maskedHeader(statement, plan);
    ConnectionFactory connections = pools.of(source);
    Duration timeout = dataset.statementTimeout() != null ? dataset.statementTimeout() : properties.statementTimeout();
    double maxCost = maxCost(dataset, ctx);
    if (maxCost <= 0 && !ctx.wantsEstimate()) {
      return respond(request, ctx, dataset, query, statement, encoder, masked,
          execute(connections, statement, encoder), timeout, id);
    }
    String sourceName = source.connection() == null ? "" : source.connection();
    return costGuard.estimate(sourceName, connections, statement)
        .timeout(timeout)
        .onErrorMap(e -> !(e instanceof R2dbcException || e instanceof java.util.concurrent.TimeoutException
                || e instanceof ProblemException),
            e -> new ProblemException(ProblemCode.UPSTREAM_UNAVAILABLE, "the datastore could not estimate the read"))
        .flatMap(estimate -> {
          if (maxCost > 0 && estimate.plannerCost() > maxCost) {
            return Mono.error(new ProblemException(ProblemCode.QUERY_TOO_EXPENSIVE,
                "the read's estimated cost %s exceeds the limit of %s for %s; narrow it with filters or a smaller limit"
                    .formatted(round(estimate.plannerCost()), round(maxCost), dataset.name())));
          }
          ctx.admitEstimate(estimate); // the quota stage's budget check may refuse it
          return respond(request, ctx, dataset, query, statement, encoder, masked,
              execute(connections, statement, encoder), timeout, id);
        });
  }

  /** The columns a page's next cursor is made of: needed as Java values, not as their text form. */
  private static Set<String> cursorColumns(DataQuery query, @Nullable String id) {
    if (id != null || query.limit() > PAGE_BUFFER_ROWS) {
      return Set.of(); // a read by id, or a streamed read: no Link, no cursor
    }
    Set<String> columns = new HashSet<>();
    for (DataQuery.Order o : query.order()) {
      columns.add(o.column());
    }
    return columns;
  }

  /** The tighter of the dataset's and the app tier's limits; 0 when neither sets one. */
  private double maxCost(Dataset dataset, RequestContext ctx) {
    double own = dataset.maxCost();
    double tier = ctx.claims() == null ? 0 : properties.maxQueryCost(ctx.claims().tier());
    if (own <= 0) {
      return tier;
    }
    return tier <= 0 ? own : Math.min(own, tier);
  }

  private static String round(double cost) {
    return java.math.BigDecimal.valueOf(cost).setScale(0, java.math.RoundingMode.HALF_UP).toPlainString();
  }

  private Mono<ServerResponse> respond(ServerRequest request, RequestContext ctx, Dataset dataset, DataQuery query,
      SelectStatement statement, RowEncoder encoder, HttpHeaders masked, Flux<Object[]> rows, Duration timeout,
      @Nullable String id) {
    // Reads consume their result to the end (the SQL LIMIT bounds it): cancelling the rows would cancel the query
    // in PostgreSQL and cost the pooled connection.
    if (id != null) {
      return idleTimeout(rows, timeout).collectList()
          .flatMap(list -> list.isEmpty()
              ? Mono.error(new ProblemException(ProblemCode.NOT_FOUND, "no row with this id in " + dataset.name()))
              : Mono.just(list.get(0)))
          .flatMap(values -> {
            byte[] body = encoder.encode(values);
            ctx.addRow(body.length);
            return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                .headers(h -> h.addAll(masked)).bodyValue(body);
          });
    }
    boolean ndjson = wantsNdjson(request);
    MediaType type = ndjson ? NDJSON : MediaType.APPLICATION_JSON;
    DataBufferFactory buffers = request.exchange().getResponse().bufferFactory();
    if (query.limit() <= PAGE_BUFFER_ROWS) {
      return idleTimeout(rows, timeout).collectList().flatMap(list -> {
        boolean more = list.size() > query.limit();
        List<Object[]> page = more ? list.subList(0, query.limit()) : list;
        HttpHeaders headers = new HttpHeaders();
        headers.addAll(masked);
        if (more) {
          String cursor = Cursors.encode(encoder.cursorValues(page.get(page.size() - 1), statement, query.order()));
          headers.add(HttpHeaders.LINK, "<" + nextLink(request, cursor) + ">; rel=\"next\"");
        }
        // Encoded before the response is committed, so a row that cannot be encoded is still a problem response; on
        // the heap, so nothing leaks if the response is never written.
        DataBuffer body = encoder.encode(DefaultDataBufferFactory.sharedInstance, page, page.size(), ndjson, true,
            true, ctx);
        return ServerResponse.ok().contentType(type).headers(h -> h.addAll(headers))
            .body(BodyInserters.fromDataBuffers(Mono.just(body)));
      });
    }
    Flux<DataBuffer> body = Flux.defer(() -> {
      boolean[] first = {true}; // signals are serial: plain state per response
      return chunks(rows, query.limit(), timeout).map(batch -> {
        DataBuffer chunk = encoder.encode(buffers, batch, batch.size(), ndjson, first[0], false, ctx);
        first[0] = false;
        return chunk;
      });
    });
    if (!ndjson) {
      body = body.switchIfEmpty(Mono.fromSupplier(() -> buffers.wrap(OPEN)))
          .concatWith(Mono.fromSupplier(() -> buffers.wrap(CLOSE)));
    }
    return ServerResponse.ok().contentType(type).headers(h -> h.addAll(masked))
        .body(BodyInserters.fromDataBuffers(body));
  }

  /**
   * A streamed read's rows in chunks of up to {@link #ROWS_PER_CHUNK}, at most {@code limit} rows in all, failing as
   * {@link #idleTimeout} does when no chunk has come for {@code timeout}.
   *
   * <p>Each chunk waits at most {@link #CHUNK_WAIT} for the rest of its rows: one HTTP chunk and one write per row was
   * a third of the gateway's CPU per streamed row (load-tests/RESULTS.md). Each chunk still costs a timer armed and
   * cancelled and a write handed to the HTTP event loop, so 256 rows (not 64) share them. The limit and the idle guard
   * act per chunk too: on every row they cost a predicate call, a counter and a serialized hand-off (takeUntilOther),
   * about 30 ns per row of the ~1.5 µs the gateway spends on one (the chain measured alone, 2026-12-05). A chunk leaves
   * at most {@code CHUNK_WAIT} after its first row, so "no chunk for the timeout" is "no row for the timeout" give or
   * take those 5 ms. The row past the limit (the SQL LIMIT fetches one more, for the cursor of a page) is dropped, not
   * cancelled: cancelling would cancel the query in PostgreSQL and cost the pooled connection.
   */
  static <T> Flux<List<T>> chunks(Flux<T> rows, int limit, Duration timeout) {
    return Flux.defer(() -> {
      long[] left = {limit}; // signals are serial: plain state per read
      return idleTimeout(rows.bufferTimeout(ROWS_PER_CHUNK, CHUNK_WAIT, true), timeout)
          .handle((chunk, sink) -> {
            int count = (int) Math.min(chunk.size(), left[0]);
            left[0] -= count;
            if (count == chunk.size()) {
              sink.next(chunk);
            } else if (count > 0) {
              sink.next(chunk.subList(0, count));
            }
          });
    });
  }

  /**
   * Runs the statement on one pooled connection. Cancelling the rows — the client went away, the statement timeout
   * fired — sends PostgreSQL a cancel request, so the backend stops working for nobody (the driver itself would only
   * discard the remaining rows while the query runs on); the physical connection is then closed rather than reused,
   * so a late cancel signal can never hit the next query on it.
   */
  private Flux<Object[]> execute(ConnectionFactory connections, SelectStatement statement, RowEncoder encoder) {
    return Flux.usingWhen(SourcePools.connect(connections),
            (Connection c) -> {
              Statement st = c.createStatement(statement.sql());
              List<Object> binds = statement.binds();
              for (int i = 0; i < binds.size(); i++) {
                Object v = binds.get(i);
                if (v == null) {
                  st.bindNull(i, String.class);
                } else {
                  st.bind(i, v);
                }
              }
              return Flux.from(st.execute()).flatMap(result -> result.map(encoder::values));
            },
            Connection::close,
            (c, error) -> c.close(),
            PostgresReader::cancelInBackend);
  }

  private static Mono<Void> cancelInBackend(Connection pooled) {
    Connection physical = pooled instanceof Wrapped<?> w && w.unwrap() instanceof Connection inner ? inner : pooled;
    Mono<Void> cancel = physical instanceof PostgresqlConnection pg
        ? pg.cancelRequest().onErrorResume(e -> Mono.empty())
        : Mono.empty();
    return cancel
        .then(Mono.defer(() -> physical == pooled ? Mono.<Void>empty() : Mono.from(physical.close())))
        .onErrorResume(e -> Mono.empty())
        .then(Mono.defer(() -> Mono.from(pooled.close())));
  }

  /**
   * Fails with a {@link TimeoutException} when nothing (no row, or no chunk of rows) has come for {@code timeout} —
   * before the first, that is the query's own run time — cancelling the rows (and so the query in PostgreSQL): the
   * {@link io.portcullis.gateway.problem.ProblemResponder} answers it 504 upstream_unavailable. One periodic check per
   * read instead of {@code Flux.timeout}'s timer rescheduled on every row, which cost a quarter of the gateway's CPU
   * per streamed row; the answer comes at most {@link #idleCheckInterval} late. An item only bumps a counter: the check
   * notes when it last saw the count move (a clock read per row was a measurable share of the per-row cost).
   */
  static <T> Flux<T> idleTimeout(Flux<T> rows, Duration timeout) {
    long limit = timeout.toNanos();
    Duration every = idleCheckInterval(timeout);
    return Flux.defer(() -> {
      AtomicLong seen = new AtomicLong(); // items so far; onNext is serial, so get-then-lazySet is one writer's count
      long[] moved = {0, System.nanoTime()}; // the count at the last check and when it last changed (ticks are serial)
      AtomicBoolean expired = new AtomicBoolean();
      AtomicBoolean completed = new AtomicBoolean();
      Mono<Long> expiry = Flux.interval(every, every)
          .filter(tick -> {
            long count = seen.get();
            long now = System.nanoTime();
            if (count != moved[0]) {
              moved[0] = count;
              moved[1] = now;
              return false;
            }
            return now - moved[1] >= limit;
          })
          .next()
          .doOnNext(tick -> expired.set(true));
      return rows.doOnNext(row -> seen.lazySet(seen.get() + 1))
          .doOnComplete(() -> completed.set(true))
          .takeUntilOther(expiry)
          .concatWith(Mono.defer(() -> expired.get() && !completed.get()
              ? Mono.error(new TimeoutException("no row within " + timeout))
              : Mono.empty()));
    });
  }

  /** A quarter of the timeout, between 10 ms and 1 s: a 15 s timeout answers within 16 s, a 500 ms one within 625 ms. */
  static Duration idleCheckInterval(Duration timeout) {
    long quarter = Math.max(10, Math.min(1000, timeout.toMillis() / 4));
    return Duration.ofMillis(quarter);
  }

  /** The decoded query string; a malformed percent-escape is the client's {@code invalid_query}, not a 500. */
  static org.springframework.util.MultiValueMap<String, String> queryParams(ServerRequest request) {
    try {
      return request.queryParams();
    } catch (IllegalArgumentException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "the query string is malformed");
    }
  }

  static HttpHeaders maskedHeader(SelectStatement statement, ColumnPlan plan) {
    HttpHeaders headers = new HttpHeaders();
    List<String> masked = new ArrayList<>();
    for (int i = 0; i < statement.written(); i++) {
      String name = statement.fetched().get(i);
      if (plan.maskedColumns().contains(name)) {
        masked.add(name);
      }
    }
    if (!masked.isEmpty()) {
      headers.set("Portcullis-Masked", String.join(", ", masked));
    }
    return headers;
  }

  private static boolean wantsNdjson(ServerRequest request) {
    for (MediaType accepted : request.headers().accept()) {
      if (accepted.isCompatibleWith(NDJSON) && !accepted.isWildcardType()) {
        return true;
      }
    }
    return false;
  }

  private static String nextLink(ServerRequest request, String cursor) {
    return UriComponentsBuilder.fromPath(request.path()).queryParams(request.queryParams())
        .replaceQueryParam("cursor", cursor).encode().build().toUriString();
  }

  static String qualified(PostgresSource source) {
    StringBuilder sql = new StringBuilder();
    if (source.schema() != null && !source.schema().isBlank()) {
      SelectStatement.quote(sql, source.schema()).append('.');
    }
    return SelectStatement.quote(sql, source.table()).toString();
  }

  static io.portcullis.policy.model.ColumnType keyType(Dataset dataset, String key) {
    for (Column c : dataset.columns()) {
      if (c.name().equals(key)) {
        return c.type();
      }
    }
    throw new IllegalStateException("dataset " + dataset.name() + " declares no key column " + key);
  }
}

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
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads from a PostgreSQL-backed dataset (DESIGN.md §1 stage 4): one parameterized SELECT with the row filter in
 * WHERE and only permitted columns, masks applied per row, written as a JSON array or NDJSON.
 *
 * <p>Pages up to {@link #PAGE_BUFFER_ROWS} rows are gathered before the headers are sent, because the {@code Link}
 * to the next page names the last row; larger reads (exports) stream row by row with back-pressure and no
 * {@code Link}, so memory stays flat whatever their size.
 */
public final class PostgresReader {

  public static final MediaType NDJSON = MediaType.parseMediaType("application/x-ndjson");
  static final int PAGE_BUFFER_ROWS = 1000;
  private static final byte[] OPEN = {'['};
  private static final byte[] COMMA = {','};
  private static final byte[] CLOSE = {']'};
  private static final byte[] NEWLINE = {'\n'};

  private final ConnectionFactory connections;
  private final Duration statementTimeout;
  private final ObjectMapper json = JsonMapper.builder().build();

  public PostgresReader(ConnectionFactory connections, Duration statementTimeout) {
    this.connections = Objects.requireNonNull(connections, "connections");
    this.statementTimeout = statementTimeout;
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
    RowEncoder encoder = new RowEncoder(json, statement, plan);
    Flux<Object[]> rows = execute(statement, encoder);
    HttpHeaders masked = maskedHeader(statement, plan);
    if (id != null) {
      return rows.next()
          .switchIfEmpty(Mono.error(() -> new ProblemException(ProblemCode.NOT_FOUND,
              "no row with this id in " + dataset.name())))
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
      return rows.collectList().flatMap(list -> {
        boolean more = list.size() > query.limit();
        List<Object[]> page = more ? list.subList(0, query.limit()) : list;
        HttpHeaders headers = new HttpHeaders();
        headers.addAll(masked);
        if (more) {
          String cursor = Cursors.encode(encoder.cursorValues(page.get(page.size() - 1), statement, query.order()));
          headers.add(HttpHeaders.LINK, "<" + nextLink(request, cursor) + ">; rel=\"next\"");
        }
        List<byte[]> encoded = new ArrayList<>(page.size());
        for (Object[] values : page) {
          byte[] row = encoder.encode(values);
          ctx.addRow(row.length);
          encoded.add(row);
        }
        return ServerResponse.ok().contentType(type).headers(h -> h.addAll(headers))
            .body(BodyInserters.fromDataBuffers(Flux.just(buffers.wrap(join(encoded, ndjson)))));
      });
    }
    Flux<DataBuffer> body = rows.take(query.limit()).index().map(indexed -> {
      byte[] row = encoder.encode(indexed.getT2());
      ctx.addRow(row.length);
      return frame(buffers, row, indexed.getT1() == 0, ndjson);
    });
    if (!ndjson) {
      body = body.switchIfEmpty(Mono.fromSupplier(() -> buffers.wrap(OPEN)))
          .concatWith(Mono.fromSupplier(() -> buffers.wrap(CLOSE)));
    }
    return ServerResponse.ok().contentType(type).headers(h -> h.addAll(masked))
        .body(BodyInserters.fromDataBuffers(body));
  }

  private Flux<Object[]> execute(SelectStatement statement, RowEncoder encoder) {
    return Flux.usingWhen(connections.create(),
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
              return Flux.from(st.execute()).flatMap(result -> result.map((row, meta) -> encoder.values(row)));
            },
            Connection::close)
        // A slow query ends as upstream_unavailable (504) and its cancellation reaches PostgreSQL.
        .timeout(statementTimeout);
  }

  private static DataBuffer frame(DataBufferFactory buffers, byte[] row, boolean first, boolean ndjson) {
    DataBuffer buffer = buffers.allocateBuffer(row.length + 1);
    if (ndjson) {
      buffer.write(row).write(NEWLINE);
    } else {
      buffer.write(first ? OPEN : COMMA).write(row);
    }
    return buffer;
  }

  private static byte[] join(List<byte[]> rows, boolean ndjson) {
    int size = 2;
    for (byte[] r : rows) {
      size += r.length + 1;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(size);
    if (!ndjson) {
      out.writeBytes(OPEN);
    }
    for (int i = 0; i < rows.size(); i++) {
      if (!ndjson && i > 0) {
        out.writeBytes(COMMA);
      }
      out.writeBytes(rows.get(i));
      if (ndjson) {
        out.writeBytes(NEWLINE);
      }
    }
    if (!ndjson) {
      out.writeBytes(CLOSE);
    }
    return out.toByteArray();
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

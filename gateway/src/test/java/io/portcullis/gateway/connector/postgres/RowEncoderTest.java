package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.PooledByteBufAllocator;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.policy.CompileOptions;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Decision;
import io.portcullis.policy.DecisionRequest;
import io.portcullis.policy.PolicyCompiler;
import io.portcullis.policy.TokenClaims;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Rows encoded a chunk at a time into pooled buffers: whatever the chunking, the concatenated chunks are the same
 * well-formed NDJSON or JSON array, masked, with the audit counting every row once.
 */
class RowEncoderTest {

  static final String YAML = """
      apps:
        - id: app
          tier: 1
      datasets:
        - name: people
          source: {type: postgres, table: people, key: id}
          columns:
            - {name: id, type: bigint}
            - {name: name, type: text}
            - {name: email, type: text}
            - {name: phone, type: text}
            - {name: score, type: numeric}
            - {name: doc, type: jsonb}
            - {name: ssn, type: text}
      grants:
        - app: app
          dataset: people
          actions: [read]
          columns: {deny: [ssn], masks: {email: email_domain, phone: last4}}
      """;

  static final List<String> FETCHED = List.of("id", "name", "email", "phone", "score", "doc");
  static final JsonMapper JSON = JsonMapper.builder().build();

  final RowEncoder encoder = new RowEncoder(new SelectStatement("", List.of(), FETCHED, FETCHED.size(), ""), plan());
  final List<DataBuffer> allocated = new ArrayList<>();
  final NettyDataBufferFactory buffers = new NettyDataBufferFactory(PooledByteBufAllocator.DEFAULT) {
    @Override
    public NettyDataBuffer allocateBuffer(int initialCapacity) {
      NettyDataBuffer b = super.allocateBuffer(initialCapacity);
      allocated.add(b);
      return b;
    }
  };
  final RequestContext ctx = RequestContext.attach(
      MockServerWebExchange.from(MockServerHttpRequest.get("/data/people")), "req-1", "127.0.0.1");

  static ColumnPlan plan() {
    try {
      var snapshot = PolicyCompiler.compile(PolicyConfigLoader.parse(YAML, "people.yaml"),
          new CompileOptions(1, new byte[32], Clock.systemUTC()));
      Instant now = Instant.now();
      TokenClaims token = new TokenClaims("user-1", "app", Set.of("people:read"), 1, Map.of(), "jti-1", now,
          now.plusSeconds(600));
      Decision d = snapshot.decide(new DecisionRequest(token, "people", Action.READ, "GET", "/data/people",
          "127.0.0.1", now));
      assertThat(d.allowed()).as(d.reason()).isTrue();
      return d.columns();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Rows with text that needs escaping (quotes, backslashes, control and non-ASCII characters), nulls and raw JSON. */
  static List<Object[]> rows(int n) {
    List<Object[]> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new Object[] {(long) i, i % 3 == 0 ? null : "Ann \"A\" \\ é\u2028\u0001 " + i,
          "p" + i + "@client" + (i % 7) + ".example", i % 5 == 0 ? null : "+44 20 7946 " + (1000 + i),
          new BigDecimal("12.50"), i % 2 == 0 ? new RowEncoder.RawJson("{\"k\":[1,\"</x>\"]}") : null});
    }
    return rows;
  }

  /** The rows as the encoder would send them, {@code perChunk} rows per chunk; the array closed as the reader does. */
  String encode(List<Object[]> rows, int perChunk, boolean ndjson) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int from = 0; from < rows.size(); from += perChunk) {
      List<Object[]> chunk = rows.subList(from, Math.min(rows.size(), from + perChunk));
      DataBuffer b = encoder.encode(buffers, chunk, chunk.size(), ndjson, from == 0, false, ctx);
      byte[] bytes = new byte[b.readableByteCount()];
      b.read(bytes);
      out.writeBytes(bytes);
    }
    if (!ndjson) {
      out.writeBytes(rows.isEmpty() ? "[]".getBytes() : "]".getBytes());
    }
    allocated.forEach(b -> assertThat(((NettyDataBuffer) b).getNativeBuffer().release()).isTrue());
    allocated.clear();
    return out.toString(StandardCharsets.UTF_8);
  }

  static void assertRow(JsonNode row, int i) {
    assertThat(row.propertyNames()).containsExactly("id", "name", "email", "phone", "score", "doc");
    assertThat(row.get("id").asLong()).isEqualTo(i);
    if (i % 3 == 0) {
      assertThat(row.get("name").isNull()).isTrue();
    } else {
      assertThat(row.get("name").asString()).isEqualTo("Ann \"A\" \\ é\u2028\u0001 " + i);
    }
    assertThat(row.get("email").asString()).isEqualTo("****@client" + (i % 7) + ".example");
    if (i % 5 == 0) {
      assertThat(row.get("phone").isNull()).isTrue();
    } else {
      String phone = "+44 20 7946 " + (1000 + i);
      assertThat(row.get("phone").asString()).isEqualTo("****" + phone.substring(phone.length() - 4));
    }
    assertThat(row.get("score").decimalValue()).isEqualByComparingTo("12.50");
    if (i % 2 == 0) {
      assertThat(row.get("doc").get("k").get(1).asString()).isEqualTo("</x>");
    } else {
      assertThat(row.get("doc").isNull()).isTrue();
    }
  }

  @Test
  void ndjsonIsOneMaskedObjectPerLineWhateverTheChunking() {
    List<Object[]> rows = rows(150);
    String whole = null;
    for (int perChunk : new int[] {1, 7, 64, 150}) {
      String body = encode(rows, perChunk, true);
      if (whole == null) {
        whole = body;
      }
      assertThat(body).as("chunks of %d", perChunk).isEqualTo(whole);
    }
    String[] lines = whole.split("\n", -1);
    assertThat(lines).hasSize(151);
    assertThat(lines[150]).isEmpty(); // every line ends with a newline, the last one too
    for (int i = 0; i < 150; i++) {
      assertRow(JSON.readTree(lines[i]), i);
    }
  }

  @Test
  void theJsonArrayIsWellFormedWhateverTheChunking() {
    List<Object[]> rows = rows(150);
    for (int perChunk : new int[] {1, 7, 64, 150}) {
      JsonNode array = JSON.readTree(encode(rows, perChunk, false));
      assertThat(array.isArray()).isTrue();
      assertThat(array.size()).isEqualTo(150);
      for (int i = 0; i < 150; i++) {
        assertRow(array.get(i), i);
      }
    }
  }

  @Test
  void aWholePageOpensAndClosesTheArrayAndAnEmptyOneIsAnEmptyArray() {
    List<Object[]> rows = rows(3);
    DataBuffer page = encoder.encode(buffers, rows, rows.size(), false, true, true, ctx);
    DataBuffer empty = encoder.encode(buffers, List.of(), 0, false, true, true, ctx);
    DataBuffer emptyNdjson = encoder.encode(buffers, List.of(), 0, true, true, true, ctx);
    assertThat(JSON.readTree(page.toString(StandardCharsets.UTF_8)).size()).isEqualTo(3);
    assertThat(empty.toString(StandardCharsets.UTF_8)).isEqualTo("[]");
    assertThat(emptyNdjson.readableByteCount()).isZero();
    allocated.forEach(b -> ((NettyDataBuffer) b).getNativeBuffer().release());
  }

  @Test
  void theAuditCountsEveryRowOnceAndTheirBytesWithoutSeparators() {
    List<Object[]> rows = rows(100);
    long rowBytes = 0;
    for (Object[] row : rows) {
      rowBytes += encoder.encode(row).length;
    }
    String body = encode(rows, 64, true);
    assertThat(ctx.rows()).isEqualTo(100);
    assertThat(ctx.bytes()).isEqualTo(rowBytes).isEqualTo(body.getBytes(StandardCharsets.UTF_8).length - 100);
  }

  @Test
  void aRowThatCannotBeEncodedFailsItsChunkAndReleasesTheBuffer() {
    List<Object[]> rows = rows(10);
    rows.get(5)[1] = new Object() {
      @Override
      public String toString() {
        throw new IllegalStateException("cannot render");
      }
    };
    assertThatThrownBy(() -> encoder.encode(buffers, rows, rows.size(), true, true, false, ctx))
        .isInstanceOf(IllegalStateException.class);
    assertThat(allocated).hasSize(1);
    assertThat(((NettyDataBuffer) allocated.get(0)).getNativeBuffer().refCnt()).isZero();
    assertThat(ctx.rows()).isZero();
  }
}

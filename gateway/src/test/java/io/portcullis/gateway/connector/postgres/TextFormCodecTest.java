package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Text, integer and numeric columns read as their text form (the streamed read's fast path) come out of the encoder as
 * the same JSON as when the driver decodes them into Java values first, on a real PostgreSQL, in the protocol's text
 * format and with a source URL that forces the binary format.
 */
class TextFormCodecTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final Duration WAIT = Duration.ofSeconds(30);
  static final List<String> COLUMNS = List.of("id", "t", "v", "c", "s", "i", "n");
  static final JsonMapper JSON = JsonMapper.builder().build();

  static final String[] TEXTS = {"plain", "quote \" and \\ backslash", "slash / </script>", "control \u0001\u001f\t\n",
      "é ü 漢字 😀", "line separators \u2028 \u2029", "", "'; DROP TABLE tf; --"};
  static final String[] NUMERICS = {"0", "-0.001", "12.50", "123456789012345678901234567890.123456789", "10000",
      "0.0000001", "-5", "99999999.00000001", "1e-20", "100000000000000000000"};

  @ParameterizedTest(name = "forceBinary={0}")
  @ValueSource(booleans = {false, true})
  void textAndNumbersEncodeAsTheDriversOwnValuesDo(boolean forceBinary) {
    PG.execute("DROP TABLE IF EXISTS tf",
        "CREATE TABLE tf (id bigint, t text, v varchar(80), c char(6), s smallint, i integer, n numeric)");
    StringBuilder insert = new StringBuilder("INSERT INTO tf VALUES ");
    for (int k = 0; k < TEXTS.length * NUMERICS.length; k++) {
      String text = TEXTS[k % TEXTS.length].replace("'", "''");
      insert.append(k == 0 ? "" : ", ").append("(").append(k % 2 == 0 ? k : -k * 1_000_000_007L).append(", '")
          .append(text).append("', '").append(text).append("', 'ab', ").append(k % 2 == 0 ? -k : k).append(", ")
          .append(k * 1_000_003 * (k % 2 == 0 ? 1 : -1)).append(", ").append(NUMERICS[k % NUMERICS.length])
          .append(")");
    }
    PG.execute(insert.toString(), "INSERT INTO tf VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL)");

    SelectStatement select = new SelectStatement("SELECT id, t, v, c, s, i, n FROM tf ORDER BY id", List.of(),
        COLUMNS, COLUMNS.size(), "");
    RowEncoder asText = new RowEncoder(select, RowEncoderTest.plan(), Set.of());
    RowEncoder typed = new RowEncoder(select, RowEncoderTest.plan());
    List<Object[][]> rows = read(forceBinary, select.sql(), (row, meta) -> new Object[][] {
        asText.values(row, meta), typed.values(row, meta)});

    assertThat(rows).hasSize(TEXTS.length * NUMERICS.length + 1);
    for (Object[][] row : rows) {
      if (row[1][0] != null) {
        assertThat(row[0]).as("every column is read as its text form").allMatch(v -> v instanceof TextForm);
      } else {
        assertThat(row[0]).containsOnlyNulls();
      }
      JsonNode fast = JSON.readTree(asText.encode(row[0]));
      JsonNode plain = JSON.readTree(typed.encode(row[1]));
      assertSameJson(fast, plain);
    }
  }

  @Test
  void numericsThatAreNoJsonNumberAreWrittenAsStrings() {
    RowEncoder encoder = new RowEncoder(new SelectStatement("", List.of(), List.of("a", "b", "c", "d"), 4, ""),
        RowEncoderTest.plan(), Set.of());
    List<Object[]> rows = read(false, "SELECT 'NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric, 42::numeric",
        encoder::values);
    JsonNode row = JSON.readTree(encoder.encode(rows.get(0)));
    assertThat(row.get("a").isString()).isTrue();
    assertThat(row.get("a").asString()).isEqualTo("NaN");
    assertThat(row.get("b").asString()).isEqualTo("Infinity");
    assertThat(row.get("c").asString()).isEqualTo("-Infinity");
    assertThat(row.get("d").isNumber()).isTrue();
    assertThat(row.get("d").asLong()).isEqualTo(42);
  }

  @Test
  void cursorAndMaskedColumnsStayTyped() {
    PG.execute("DROP TABLE IF EXISTS tm", "CREATE TABLE tm (id bigint, name text, email text)",
        "INSERT INTO tm VALUES (7, 'Ann', 'ann@example.org')");
    List<String> fetched = List.of("id", "name", "email");
    RowEncoder encoder = new RowEncoder(new SelectStatement("", List.of(), fetched, 3, ""), RowEncoderTest.plan(),
        Set.of("id"));
    Object[] values = read(false, "SELECT id, name, email FROM tm", encoder::values).get(0);
    assertThat(values[0]).as("a cursor column").isEqualTo(7L);
    assertThat(values[1]).isInstanceOf(TextForm.class);
    assertThat(values[2]).as("email is masked in the plan").isEqualTo("ann@example.org");
    assertThat(JSON.readTree(encoder.encode(values)).get("email").asString()).isEqualTo("****@example.org");
  }

  static <T> List<T> read(boolean forceBinary, String sql,
      java.util.function.BiFunction<io.r2dbc.spi.Row, io.r2dbc.spi.RowMetadata, T> mapper) {
    ConnectionFactory connections = ConnectionFactories.get(SourcePools.withConnectorCodecs(
        ConnectionFactoryOptions.parse(PG.r2dbcUrl()).mutate()
            .option(PostgresqlConnectionFactoryProvider.FORCE_BINARY, forceBinary)).build());
    return Flux.usingWhen(connections.create(),
            (Connection c) -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.map(mapper)),
            Connection::close)
        .collectList().block(WAIT);
  }

  static void assertSameJson(JsonNode fast, JsonNode plain) {
    assertThat(fast.propertyNames()).containsExactlyElementsOf(plain.propertyNames());
    Iterator<Map.Entry<String, JsonNode>> fields = plain.properties().iterator();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode value = fast.get(field.getKey());
      if (field.getValue().isNumber()) {
        assertThat(value.isNumber()).as(field.getKey()).isTrue();
        assertThat(value.decimalValue()).as(field.getKey()).isEqualByComparingTo(field.getValue().decimalValue());
      } else {
        assertThat(value).as(field.getKey()).isEqualTo(field.getValue());
      }
    }
  }
}

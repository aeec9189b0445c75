package io.portcullis.gateway.connector.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.policy.Decision;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import tools.jackson.databind.json.JsonMapper;

class RowStreamFilterTest {

  static final Set<String> DECLARED = Set.of("id", "name", "email", "phone", "region", "ssn", "score", "tags");
  static final HttpUpstreamProperties PROPERTIES = new Binder(new MapConfigurationPropertySource())
      .bindOrCreate("portcullis.http-upstream", HttpUpstreamProperties.class);
  static final JsonMapper JSON = HttpUpstreamConfiguration.upstreamJson(PROPERTIES);

  final Decision eu = CrmPolicy.decision("eu");
  final List<Long> rowSizes = new ArrayList<>();

  RowStreamFilter filter(String pointer, long maxRow, long maxHeld) {
    return new RowStreamFilter(JSON, pointer, eu.columns(), eu.rowFilter(), DECLARED, maxRow, maxHeld, rowSizes::add);
  }

  /** Feeds the body in chunks of {@code chunk} bytes; returns everything sent. */
  String run(RowStreamFilter f, String body, int chunk) {
    byte[] in = body.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < in.length; i += chunk) {
      out.writeBytes(f.feed(in, i, Math.min(chunk, in.length - i)));
    }
    out.writeBytes(f.finish());
    f.close();
    return out.toString(StandardCharsets.UTF_8);
  }

  static final String CRM_BODY = """
      {"meta": {"page": 1, "rows": [1, 2]},
       "data": [
         {"id": 1, "name": "Ann", "email": "ann@corp.example", "phone": "+44 20 7946 0001", "region": "eu",
          "ssn": "123-45-6789", "internal": {"secret": [1, 2, 3]}, "score": 12.50, "tags": {"vip": true, "n": null}},
         {"id": 2, "name": "Bob", "email": "bob@us.example", "phone": "555-0100", "region": "us", "ssn": "987-65-4321"},
         {"id": 3, "name": "Cat", "region": null},
         {"id": 4, "name": "Dan \\"D\\" \\u00e9", "region": "eu", "phone": null}
       ],
       "next": "cursor-2"}
      """;

  static final String EXPECTED = "{\"meta\":{\"page\":1,\"rows\":[1,2]},\"data\":["
      + "{\"id\":1,\"name\":\"Ann\",\"email\":\"****@corp.example\",\"phone\":\"****0001\",\"region\":\"eu\","
      + "\"score\":12.50,\"tags\":{\"vip\":true,\"n\":null}},"
      + "{\"id\":4,\"name\":\"Dan \\\"D\\\" \u00e9\",\"phone\":null,\"region\":\"eu\"}"
      + "],\"next\":\"cursor-2\"}";

  @Test
  void keepsOnlyRowsInsideTheFilterMasksAndDropsHiddenAndUndeclaredFields() {
    assertThat(run(filter("/data", 1 << 20, 1 << 16), CRM_BODY, 1 << 16)).isEqualTo(EXPECTED);
    assertThat(rowSizes).hasSize(2);
  }

  @Test
  void theOutputDoesNotDependOnHowTheBodyIsChunked() {
    for (int chunk : new int[] {1, 2, 3, 7, 64}) {
      assertThat(run(filter("/data", 1 << 20, 1 << 16), CRM_BODY, chunk)).as("chunk %d", chunk).isEqualTo(EXPECTED);
    }
  }

  @Test
  void aTopLevelArrayIsTheRowsForAnEmptyOrRootPointer() {
    String body = "[{\"id\":1,\"region\":\"eu\",\"ssn\":\"x\"},{\"id\":2,\"region\":\"us\"}]";
    assertThat(run(filter("", 1 << 20, 1 << 16), body, 5)).isEqualTo("[{\"id\":1,\"region\":\"eu\"}]");
    assertThat(run(filter("/", 1 << 20, 1 << 16), body, 5)).isEqualTo("[{\"id\":1,\"region\":\"eu\"}]");
  }

  @Test
  void nestedPointersAreFollowed() {
    String body = "{\"result\":{\"items\":[{\"id\":1,\"region\":\"eu\"},{\"id\":2,\"region\":\"apac\"}],\"total\":2}}";
    assertThat(run(filter("/result/items", 1 << 20, 1 << 16), body, 3))
        .isEqualTo("{\"result\":{\"items\":[{\"id\":1,\"region\":\"eu\"}],\"total\":2}}");
  }

  @Test
  void nothingIsSentBeforeTheRowsArrayIsFound() {
    RowStreamFilter f = filter("/data", 1 << 20, 1 << 16);
    byte[] head = "{\"meta\": {\"page\": 1}, ".getBytes(StandardCharsets.UTF_8);
    assertThat(f.feed(head, 0, head.length)).isEmpty();
    byte[] rows = "\"data\": [{\"id\": 1, \"region\": \"eu\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(new String(f.feed(rows, 0, rows.length), StandardCharsets.UTF_8))
        .isEqualTo("{\"meta\":{\"page\":1},\"data\":[{\"id\":1,\"region\":\"eu\"}");
  }

  @Test
  void malformedBodiesFailWithoutQuotingTheUpstream() {
    for (String body : new String[] {
        "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"ssn\": \"SECRET-123\" oops}]}",
        "<html>SECRET-123</html>",
        "{\"data\": [{\"id\": 1, \"region\": \"eu\"}, 42]}",
        "{\"data\": {\"id\": 1}}",
        "{\"rows\": [{\"id\": 1, \"region\": \"eu\", \"ssn\": \"SECRET-123\"}]}",
        "{\"data\": [{\"id\": 1, \"region\": \"eu\"}]",
        "{\"data\": []} {\"data\": [{\"ssn\": \"SECRET-123\"}]}",
        "{\"data\": [{\"id\": 1, \"id\": 2, \"region\": \"eu\"}]}",
        ""}) {
      assertThatThrownBy(() -> run(filter("/data", 1 << 20, 1 << 16), body, 4)).as(body)
          .isInstanceOf(UpstreamFailure.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("SECRET").doesNotContain("html"));
    }
  }

  @Test
  void rowsFindTheirFieldsWhateverTheirOrderAndWhateverTheRowsBefore() {
    // the same keys in other orders, at other positions, some missing, some undeclared, row after row
    String body = "{\"data\": ["
        + "{\"id\": 1, \"region\": \"eu\", \"name\": \"A\", \"email\": \"a@x.example\"},"
        + "{\"region\": \"eu\", \"id\": 2, \"email\": \"b@x.example\", \"name\": \"B\"},"
        + "{\"x\": 0, \"id\": 3, \"region\": \"us\", \"name\": \"C\"},"
        + "{\"name\": \"D\", \"x\": {\"region\": \"us\"}, \"region\": \"eu\", \"id\": 4},"
        + "{\"id\": 5, \"region\": \"eu\", \"name\": \"E\", \"email\": \"e@x.example\"}]}";
    String expected = "{\"data\":["
        + "{\"id\":1,\"name\":\"A\",\"email\":\"****@x.example\",\"region\":\"eu\"},"
        + "{\"id\":2,\"name\":\"B\",\"email\":\"****@x.example\",\"region\":\"eu\"},"
        + "{\"id\":4,\"name\":\"D\",\"region\":\"eu\"},"
        + "{\"id\":5,\"name\":\"E\",\"email\":\"****@x.example\",\"region\":\"eu\"}]}";
    for (int chunk : new int[] {1, 7, 1 << 16}) {
      assertThat(run(filter("/data", 1 << 20, 1 << 16), body, chunk)).as("chunks of %d", chunk).isEqualTo(expected);
    }
  }

  @Test
  void repeatedKeysThatCouldReachTheClientAreRefused() {
    for (String body : new String[] {
        // a second rows array would be copied through unfiltered
        "{\"data\": [{\"id\": 1, \"region\": \"eu\"}], \"data\": [{\"id\": 2, \"region\": \"us\", \"ssn\": \"SECRET-1\"}]}",
        "{\"meta\": {\"page\": 1, \"page\": 2}, \"data\": []}",
        "{\"data\": [{\"region\": \"us\", \"id\": 1, \"region\": \"eu\"}]}",
        // a hidden column is read for the filter: it must not say two things either
        "{\"data\": [{\"id\": 1, \"ssn\": \"a\", \"region\": \"eu\", \"ssn\": \"b\"}]}",
        "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"tags\": {\"vip\": true, \"vip\": false}}]}",
        "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"tags\": [{\"a\": {\"b\": 1, \"b\": 2}}]}]}"}) {
      for (int chunk : new int[] {3, 1 << 16}) {
        assertThatThrownBy(() -> run(filter("/data", 1 << 20, 1 << 16), body, chunk)).as(body)
            .isInstanceOf(UpstreamFailure.class)
            .satisfies(e -> assertThat(e.getMessage()).contains("repeats a key").doesNotContain("SECRET"));
      }
    }
  }

  @Test
  void aRepeatedUndeclaredFieldIsDroppedLikeTheFirst() {
    String body = "{\"data\": [{\"id\": 1, \"internal\": 1, \"region\": \"eu\", \"internal\": {\"x\": 2}}]}";
    assertThat(run(filter("/data", 1 << 20, 1 << 16), body, 5)).isEqualTo("{\"data\":[{\"id\":1,\"region\":\"eu\"}]}");
    assertThat(rowSizes).containsExactly((long) "{\"id\":1,\"region\":\"eu\"}".length());
  }

  @Test
  void aRowLargerThanTheBoundFails() {
    String big = "x".repeat(5000);
    String body = "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"name\": \"" + big + "\"}]}";
    assertThatThrownBy(() -> run(filter("/data", 1000, 1 << 16), body, 512)).isInstanceOf(UpstreamFailure.class)
        .hasMessageContaining("larger than 1000 bytes");
    String undeclared = "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"blob\": [\"" + big + "\"]}]}";
    assertThatThrownBy(() -> run(filter("/data", 1000, 1 << 16), undeclared, 512)).isInstanceOf(UpstreamFailure.class);
  }

  @Test
  void outputStaysChunkSizedWhateverTheBodySize() {
    RowStreamFilter f = filter("/data", 1 << 20, 1 << 16);
    byte[] chunk = new byte[8192];
    byte[] row = "{\"id\":1,\"name\":\"n\",\"email\":\"a@b.example\",\"region\":\"eu\",\"ssn\":\"x\"},"
        .getBytes(StandardCharsets.UTF_8);
    long rows = 0;
    int maxOut = 0;
    int n = 0;
    byte[] head = "{\"data\":[".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(head, 0, chunk, 0, head.length);
    n = head.length;
    for (int i = 0; i < 500_000; i++) {
      if (n + row.length > chunk.length) {
        maxOut = Math.max(maxOut, f.feed(chunk, 0, n).length);
        n = 0;
      }
      System.arraycopy(row, 0, chunk, n, row.length);
      n += row.length;
      rows++;
    }
    byte[] tail = "{\"id\":0,\"region\":\"eu\"}]}".getBytes(StandardCharsets.UTF_8);
    maxOut = Math.max(maxOut, f.feed(chunk, 0, n).length);
    maxOut = Math.max(maxOut, f.feed(tail, 0, tail.length).length);
    f.finish();
    assertThat(rowSizes).hasSize((int) rows + 1);
    assertThat(maxOut).isLessThanOrEqualTo(chunk.length); // one chunk in, at most about one chunk out
  }

  @Test
  void aLongPrefixWithoutTheRowsArrayFails() {
    String body = "{\"meta\": \"" + "m".repeat(5000) + "\", \"data\": []}";
    assertThatThrownBy(() -> run(filter("/data", 1 << 20, 1000), body, 512)).isInstanceOf(UpstreamFailure.class)
        .hasMessageContaining("first 1000 bytes");
  }
}

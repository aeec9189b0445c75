package io.portcullis.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.charset.StandardCharsets;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The canonical JSON of an {@link AuditEvent}: snake_case keys sorted alphabetically, no whitespace, nulls omitted,
 * timestamps as ISO-8601 UTC strings, enums lower-case. The same bytes are hashed, sent to Kafka, written to JSON-lines
 * files and to the spill file, so an event read back from any of them re-hashes to the same value.
 */
public final class AuditJson {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
      // records' constructor parameters would otherwise be written first, in declaration order
      .disable(MapperFeature.SORT_CREATOR_PROPERTIES_FIRST)
      .changeDefaultPropertyInclusion(i -> i.withValueInclusion(JsonInclude.Include.NON_NULL)
          .withContentInclusion(JsonInclude.Include.NON_NULL))
      .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
      // Schubfach: the same shortest digits on every JDK (JDK 17's Double.toString is not always shortest), so a
      // verifier on another JVM re-hashes cost_units / latency_ms to the same bytes
      .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();
  private static final ObjectWriter WRITER = MAPPER.writerFor(AuditEvent.class);
  private static final ObjectReader READER = MAPPER.readerFor(AuditEvent.class);

  private AuditJson() {}

  /** Canonical JSON of the whole event (chain fields included when set). */
  public static String toJson(AuditEvent event) {
    return WRITER.writeValueAsString(event);
  }

  public static byte[] toJsonBytes(AuditEvent event) {
    return WRITER.writeValueAsBytes(event);
  }

  /** Parses one event; fails on unknown fields, since a field the hash did not cover must not pass silently. */
  public static AuditEvent fromJson(String json) {
    return READER.readValue(json);
  }

  public static AuditEvent fromJson(byte[] json) {
    return READER.readValue(json);
  }

  /** The bytes the hash covers: the canonical JSON with {@code prev_hash} and {@code hash} left out. */
  static byte[] hashedBytes(AuditEvent event) {
    return WRITER.writeValueAsBytes(event.withoutLinks());
  }

  static JsonMapper mapper() {
    return MAPPER;
  }

  static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}

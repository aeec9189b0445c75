package io.portcullis.gateway.connector.postgres;

import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Mask;
import io.portcullis.policy.PlannedColumn;
import io.r2dbc.postgresql.codec.Json;
import io.r2dbc.spi.Row;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.SerializableString;
import tools.jackson.core.io.SerializedString;
import tools.jackson.databind.ObjectMapper;

/**
 * Encodes one database row as one JSON object, applying the column plan's masks as the row streams by. Built once
 * per request: column names pre-escaped, masks resolved to an array indexed like the SELECT list.
 */
final class RowEncoder {

  private final ObjectMapper json;
  private final SerializableString[] names;
  private final @Nullable Mask[] masks;
  private final int fetched;

  RowEncoder(ObjectMapper json, SelectStatement statement, ColumnPlan plan) {
    this.json = json;
    this.fetched = statement.fetched().size();
    this.names = new SerializableString[statement.written()];
    this.masks = new Mask[statement.written()];
    for (int i = 0; i < statement.written(); i++) {
      String name = statement.fetched().get(i);
      names[i] = new SerializedString(name);
      PlannedColumn column = plan.column(name);
      masks[i] = column == null ? null : column.mask();
    }
  }

  /** The plain values of a row's SELECT list (JSON columns as {@link RawJson}). */
  Object[] values(Row row) {
    Object[] values = new Object[fetched];
    for (int i = 0; i < fetched; i++) {
      Object v = row.get(i);
      values[i] = v instanceof Json j ? new RawJson(j.asString()) : v;
    }
    return values;
  }

  byte[] encode(Object[] values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator gen = json.createGenerator(out)) {
      gen.writeStartObject();
      for (int i = 0; i < names.length; i++) {
        gen.writeName(names[i]);
        Mask mask = masks[i];
        Object value = values[i];
        if (mask != null) {
          value = mask.apply(value instanceof RawJson raw ? raw.text() : value);
        }
        write(gen, value);
      }
      gen.writeEndObject();
    }
    return out.toByteArray();
  }

  /** Order-column values of the row, for the next page's cursor. */
  List<@Nullable Object> cursorValues(Object[] values, SelectStatement statement, List<DataQuery.Order> order) {
    List<Object> cursor = new ArrayList<>(order.size());
    for (DataQuery.Order o : order) {
      cursor.add(values[statement.fetched().indexOf(o.column())]);
    }
    return cursor;
  }

  private static void write(JsonGenerator gen, @Nullable Object value) {
    if (value == null) {
      gen.writeNull();
    } else if (value instanceof String s) {
      gen.writeString(s);
    } else if (value instanceof Integer n) {
      gen.writeNumber(n);
    } else if (value instanceof Long n) {
      gen.writeNumber(n);
    } else if (value instanceof Short n) {
      gen.writeNumber(n);
    } else if (value instanceof BigDecimal n) {
      gen.writeNumber(n);
    } else if (value instanceof BigInteger n) {
      gen.writeNumber(n);
    } else if (value instanceof Double n) {
      gen.writeNumber(n);
    } else if (value instanceof Float n) {
      gen.writeNumber(n);
    } else if (value instanceof Boolean b) {
      gen.writeBoolean(b);
    } else if (value instanceof RawJson raw) {
      gen.writeRawValue(raw.text());
    } else if (value instanceof TemporalAccessor || value instanceof java.util.UUID) {
      gen.writeString(value.toString());
    } else {
      gen.writeString(value.toString());
    }
  }

  /** A JSON/JSONB value passed through as is. */
  record RawJson(String text) {
  }
}

package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Mask;
import io.portcullis.policy.PlannedColumn;
import io.r2dbc.postgresql.codec.Json;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.SerializableString;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.io.SerializedString;
import tools.jackson.core.json.JsonFactory;

/**
 * Encodes database rows as JSON objects, applying the column plan's masks as the rows stream by. Built once per
 * request: column names pre-escaped, masks resolved to an array indexed like the SELECT list.
 *
 * <p>Columns that are neither masked nor needed typed for a cursor are taken out of the driver as their
 * {@link TextForm} when PostgreSQL's text form is already their JSON form (text, integers, numeric): no
 * {@code String}, {@code Long} or {@code BigDecimal} made per value only to be written back as the same bytes.
 */
final class RowEncoder {

  /**
   * Rows are root-level values written back to back, framed by the caller: no separator of Jackson's own between them
   * (its default is a space), and closing the generator flushes but leaves the buffer to the response.
   */
  private static final JsonFactory JSON = JsonFactory.builder().rootValueSeparator((String) null)
      .disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

  private final SerializableString[] names;
  private final @Nullable Mask[] masks;
  private final int fetched;
  /** Columns whose values must stay typed: masked ones (masks take strings) and those a page's cursor is made of. */
  private final boolean[] typed;
  /** Per fetched column, read as a {@link TextForm}; decided from the first row's metadata (signals are serial). */
  private boolean @Nullable [] asText;
  /** Scratch for writing a number's text form (signals are serial). */
  private char[] digits = new char[32];
  /** Bytes per row of the last chunk, to size the next chunk's buffer (signals are serial: a plain field). */
  private int rowBytesGuess = 128;

  RowEncoder(SelectStatement statement, ColumnPlan plan) {
    this(statement, plan, Set.copyOf(statement.fetched()));
  }

  /** {@code typedColumns}: columns whose values are needed as Java values (a page's cursor), besides masked ones. */
  RowEncoder(SelectStatement statement, ColumnPlan plan, Set<String> typedColumns) {
    this.fetched = statement.fetched().size();
    this.names = new SerializableString[statement.written()];
    this.masks = new Mask[statement.written()];
    this.typed = new boolean[fetched];
    for (int i = 0; i < fetched; i++) {
      String name = statement.fetched().get(i);
      typed[i] = i >= statement.written() || typedColumns.contains(name);
      if (i < statement.written()) {
        names[i] = new SerializedString(name);
        PlannedColumn column = plan.column(name);
        masks[i] = column == null ? null : column.mask();
        typed[i] |= masks[i] != null;
      }
    }
  }

  /** The values of a row's SELECT list: Java values, JSON columns as {@link RawJson}, others as {@link TextForm}. */
  Object[] values(Row row, RowMetadata metadata) {
    boolean[] text = asText;
    if (text == null) {
      text = new boolean[fetched];
      for (int i = 0; i < fetched; i++) {
        text[i] = !typed[i] && metadata.getColumnMetadata(i).getNativeTypeMetadata() instanceof Integer oid
            && TextFormCodec.handles(oid);
      }
      asText = text;
    }
    Object[] values = new Object[fetched];
    for (int i = 0; i < fetched; i++) {
      if (text[i]) {
        values[i] = row.get(i, TextForm.class);
      } else {
        Object v = row.get(i);
        values[i] = v instanceof Json j ? new RawJson(j.asString()) : v;
      }
    }
    return values;
  }

  /** One row as a JSON object (a read by id). */
  byte[] encode(Object[] values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator gen = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
      writeRow(gen, values);
    }
    return out.toByteArray();
  }

  /**
   * Rows {@code [0, count)} as one buffer from {@code buffers}: NDJSON lines, or array elements — {@code opens}: the
   * first opens the array; {@code closes}: the array ends after the last. One generator per chunk writing straight
   * into the (pooled) buffer, instead of a generator, a byte[] and a copy per row (creating the generator alone was
   * about 8 % of the gateway's CPU samples while streaming). Adds the
   * rows and their bytes (without separators) to the request's audit counts. A row that fails to encode fails the
   * whole chunk, whose buffer is released: a chunk never carries half a row.
   */
  DataBuffer encode(DataBufferFactory buffers, List<Object[]> rows, int count, boolean ndjson, boolean opens,
      boolean closes, RequestContext ctx) {
    DataBuffer buffer = buffers.allocateBuffer(Math.max(64, count * rowBytesGuess + 2));
    int framing = 0;
    try (OutputStream out = buffer.asOutputStream();
        JsonGenerator gen = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
      if (!ndjson && opens && count == 0) {
        gen.writeRaw('[');
        framing++;
      }
      for (int i = 0; i < count; i++) {
        if (!ndjson) {
          gen.writeRaw(opens && i == 0 ? '[' : ',');
          framing++;
        }
        writeRow(gen, rows.get(i));
        if (ndjson) {
          gen.writeRaw('\n');
          framing++;
        }
      }
      if (!ndjson && closes) {
        gen.writeRaw(']');
        framing++;
      }
    } catch (IOException e) {
      DataBufferUtils.release(buffer);
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      DataBufferUtils.release(buffer);
      throw e;
    }
    int rowBytes = buffer.readableByteCount() - framing;
    ctx.addRows(count, rowBytes);
    if (count > 0) {
      rowBytesGuess = rowBytes / count + 2;
    }
    return buffer;
  }

  private void writeRow(JsonGenerator gen, Object[] values) {
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

  /** Order-column values of the row, for the next page's cursor. */
  List<@Nullable Object> cursorValues(Object[] values, SelectStatement statement, List<DataQuery.Order> order) {
    List<Object> cursor = new ArrayList<>(order.size());
    for (DataQuery.Order o : order) {
      cursor.add(values[statement.fetched().indexOf(o.column())]);
    }
    return cursor;
  }

  private void write(JsonGenerator gen, @Nullable Object value) {
    if (value == null) {
      gen.writeNull();
    } else if (value instanceof TextForm t) {
      writeTextForm(gen, t);
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

  private void writeTextForm(JsonGenerator gen, TextForm value) {
    byte[] utf8 = value.utf8();
    if (!value.number()) {
      gen.writeUTF8String(utf8, 0, utf8.length);
      return;
    }
    if (digits.length < utf8.length) {
      digits = new char[utf8.length];
    }
    for (int i = 0; i < utf8.length; i++) {
      digits[i] = (char) utf8[i]; // a number's text form is ASCII
    }
    gen.writeNumber(digits, 0, utf8.length);
  }

  /** A JSON/JSONB value passed through as is. */
  record RawJson(String text) {
  }
}

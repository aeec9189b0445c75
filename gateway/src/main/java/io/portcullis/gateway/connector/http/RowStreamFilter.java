package io.portcullis.gateway.connector.http;

import io.portcullis.policy.BoundRowFilter;
import io.portcullis.policy.ColumnPlan;
import io.portcullis.policy.Mask;
import io.portcullis.policy.PlannedColumn;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonPointer;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.async.ByteArrayFeeder;
import tools.jackson.databind.json.JsonMapper;

/**
 * Filters and masks one upstream JSON body as it streams (DESIGN.md §1 stage 4, http upstream): the rows array at the
 * configured JSON pointer is rewritten row by row — each row object buffered alone, tested with the row filter, hidden
 * and undeclared fields dropped, masks applied, re-serialized — and every token outside it is copied through.
 *
 * <p>A row's declared fields are held in one array slot per declared column, reused from row to row, not in a map per
 * row: most rows of a governed page fail the row filter, and a map with its entries per row was most of what a
 * request allocated here (load-tests/warm-cpu.sh, JFR allocation samples). Nested values are still built as maps
 * and lists.
 *
 * <p>Memory is one input chunk, one row and the output of one chunk, whatever the body size. What precedes the rows
 * array is held back (bounded) until the array is found, so a body without it — an upstream that changed its shape and
 * would otherwise pass its rows through unfiltered — fails before anything is sent. Not thread-safe: one instance per
 * response, fed in order.
 *
 * <p>Duplicate keys are refused wherever they could make the body say two things: in the objects around the rows
 * array (a second {@code "data": [...]} would otherwise be copied through unfiltered) and for every key that is kept
 * from a row, nested values included. The checks ride on what is held anyway (the row's map, a small key set per
 * enclosing object) instead of the parser's own duplicate detection, which tracked every key of every object,
 * undeclared fields included, at a measurable cost per row (load-tests/RESULTS.md). A repeated undeclared field is
 * dropped with its first occurrence: nothing of it is sent.
 */
final class RowStreamFilter implements AutoCloseable {

  private static final byte[] NOTHING = new byte[0];

  private enum State { OUTSIDE, ROWS, ROW, DONE }

  private final JsonParser parser;
  private final ByteArrayFeeder feeder;
  private final JsonGenerator out;
  private final Output sink = new Output();
  private final String pointer;
  private final ColumnPlan plan;
  private final BoundRowFilter filter;
  private final long maxRowBytes;
  private final long maxHeldBytes;
  private final LongConsumer onRow;

  private long fed;
  private State state = State.OUTSIDE;
  private boolean rowsFound;
  private boolean rootDone;

  // keys seen in each object enclosing the rows array (ARRAY for an enclosing array), innermost first
  private static final Object ARRAY = new Object();
  private final ArrayDeque<Object> outsideKeys = new ArrayDeque<>();

  // the row being buffered: the row's own fields by declared column slot, the nested values open inside it
  private final Map<String, Integer> slotOf;
  private final @Nullable Object[] values;
  private final boolean[] present;
  private final int[] planSlots;
  private final Function<String, @Nullable Object> lookup = this::rowValue;
  private final ArrayDeque<Object> open = new ArrayDeque<>();
  private int slot = -1;
  // Per position of a top-level field in a row: the name found there last (the parser hands out one String instance
  // per distinct name) and its slot (-1: undeclared). Rows of one body repeat their keys in the same order, so the
  // rows after the first find their slots by identity; the hash lookup per field was ~19 % of the filter's samples.
  private static final int POSITIONS = 64;
  private final String[] namesAt = new String[POSITIONS];
  private final int[] slotsAt = new int[POSITIONS];
  private int position;
  private @Nullable String filterName;
  private int filterSlot = -1;
  private long rowStart;
  private int skipDepth = -1;

  /**
   * @param rowsPointer the JSON pointer of the rows array; {@code ""} or {@code "/"} for a top-level array
   * @param declared    the dataset's declared column names: only these are read from a row (the filter may test a
   *                    hidden one), the plan decides what is written
   * @param onRow       called with the serialized size of each row written
   */
  RowStreamFilter(JsonMapper mapper, String rowsPointer, ColumnPlan plan, BoundRowFilter filter, Set<String> declared,
      long maxRowBytes, long maxHeldBytes, LongConsumer onRow) {
    this.pointer = normalize(rowsPointer);
    this.plan = plan;
    this.filter = filter;
    Map<String, Integer> slots = new HashMap<>(declared.size() * 2);
    for (String name : declared) {
      slots.put(name, slots.size());
    }
    this.slotOf = slots;
    this.values = new Object[slots.size()];
    this.present = new boolean[slots.size()];
    List<PlannedColumn> columns = plan.columns();
    this.planSlots = new int[columns.size()];
    for (int i = 0; i < planSlots.length; i++) {
      planSlots[i] = slots.getOrDefault(columns.get(i).name(), -1); // undeclared: never read, never written
    }
    this.maxRowBytes = maxRowBytes;
    this.maxHeldBytes = maxHeldBytes;
    this.onRow = onRow;
    this.parser = mapper.createNonBlockingByteArrayParser();
    this.feeder = (ByteArrayFeeder) parser.nonBlockingInputFeeder();
    this.out = mapper.createGenerator(sink);
  }

  /** The pointer in the form {@link JsonPointer#toString()} gives; {@code "/"} means the body itself here. */
  static String normalize(String rowsPointer) {
    if (rowsPointer.isEmpty() || rowsPointer.equals("/")) {
      return "";
    }
    try {
      return JsonPointer.compile(rowsPointer).toString();
    } catch (IllegalArgumentException e) {
      throw UpstreamFailure.body("the dataset's rows_pointer is not a JSON pointer");
    }
  }

  /**
   * Feeds the next {@code length} bytes and returns what may be sent now, possibly nothing. The parser has consumed
   * all of {@code chunk} when this returns (the caller may reuse it).
   */
  byte[] feed(byte[] chunk, int offset, int length) {
    if (length == 0) {
      return NOTHING;
    }
    try {
      feeder.feedInput(chunk, offset, offset + length);
      fed += length;
      drain();
    } catch (JacksonException e) {
      throw malformed();
    }
    if (state == State.ROW && fed - rowStart > maxRowBytes) {
      throw UpstreamFailure.body("an upstream row is larger than " + maxRowBytes + " bytes");
    }
    return take();
  }

  /** Ends the input: what remains to send, or a failure when the body was incomplete or had no rows array. */
  byte[] finish() {
    try {
      feeder.endOfInput();
      drain();
    } catch (JacksonException e) {
      throw malformed();
    }
    if (!rootDone) {
      throw UpstreamFailure.body("the upstream body ended before its JSON did");
    }
    if (!rowsFound) {
      throw UpstreamFailure.body("the upstream body has no rows array at the dataset's rows_pointer");
    }
    out.flush();
    return take();
  }

  @Override
  public void close() {
    parser.close();
    // hands the generator's output buffer back to the factory's recycler pool; left open, every request allocated one
    out.close();
  }

  private UpstreamFailure malformed() {
    // the byte offset only: Jackson's message may quote the body
    return UpstreamFailure.body("the upstream body is not valid JSON (near byte " + fed + ")");
  }

  private byte[] take() {
    if (!rowsFound) {
      checkHeld();
      return NOTHING;
    }
    out.flush();
    if (sink.size() == 0) {
      return NOTHING;
    }
    byte[] bytes = sink.toByteArray();
    sink.reset();
    return bytes;
  }

  private void checkHeld() {
    out.flush();
    if (sink.size() > maxHeldBytes) {
      throw UpstreamFailure.body("no rows array within the first " + maxHeldBytes + " bytes of the upstream body");
    }
  }

  private void drain() {
    JsonToken t;
    while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
      if (rootDone) {
        throw UpstreamFailure.body("the upstream body has content after its JSON value");
      }
      switch (state) {
        case OUTSIDE -> outside(t);
        case ROWS -> rows(t);
        case ROW -> inRow(t);
        default -> throw new IllegalStateException(state.name());
      }
    }
  }

  private void outside(JsonToken t) {
    if (!rowsFound && t != JsonToken.PROPERTY_NAME && t != JsonToken.END_OBJECT && t != JsonToken.END_ARRAY
        && pointer.equals(valuePath(t))) {
      if (t != JsonToken.START_ARRAY) {
        throw UpstreamFailure.body("the value at the dataset's rows_pointer is not an array");
      }
      checkHeld();
      rowsFound = true;
      state = State.ROWS;
      out.writeStartArray();
      return;
    }
    trackOutsideKeys(t);
    out.copyCurrentEventExact(parser);
    markRootDone(t);
  }

  @SuppressWarnings("unchecked")
  private void trackOutsideKeys(JsonToken t) {
    switch (t) {
      case START_OBJECT -> outsideKeys.push(new HashSet<String>(8));
      case START_ARRAY -> outsideKeys.push(ARRAY);
      case END_OBJECT, END_ARRAY -> outsideKeys.pop();
      case PROPERTY_NAME -> {
        if (outsideKeys.peek() instanceof HashSet<?> keys && !((HashSet<String>) keys).add(parser.currentName())) {
          throw duplicate();
        }
      }
      default -> { }
    }
  }

  private static UpstreamFailure duplicate() {
    // the key is not quoted: it comes from the upstream body
    return UpstreamFailure.body("the upstream body repeats a key in one object");
  }

  private void markRootDone(JsonToken t) {
    if (parser.streamReadContext().inRoot() && t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
      rootDone = true;
    }
  }

  /** The JSON pointer of the value token {@code t} starts. */
  private String valuePath(JsonToken t) {
    TokenStreamContext ctx = parser.streamReadContext();
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      ctx = ctx.getParent();
    }
    return ctx.pathAsPointer().toString();
  }

  private void rows(JsonToken t) {
    if (t == JsonToken.END_ARRAY) {
      out.writeEndArray();
      state = State.OUTSIDE;
      markRootDone(t);
    } else if (t == JsonToken.START_OBJECT) {
      Arrays.fill(present, false);
      Arrays.fill(values, null);
      slot = -1;
      position = 0;
      rowStart = parser.currentTokenLocation().getByteOffset();
      state = State.ROW;
    } else {
      throw UpstreamFailure.body("an element of the upstream rows array is not an object");
    }
  }

  private void inRow(JsonToken t) {
    if (skipDepth >= 0) {
      skip(t);
      return;
    }
    switch (t) {
      case PROPERTY_NAME -> {
        String name = parser.currentName();
        if (open.isEmpty()) {
          int s = slotAt(name, position++);
          if (s < 0) {
            skipDepth = 0; // an undeclared field: its value is not kept at all
          } else if (present[s]) {
            throw duplicate(); // the earlier value is complete by now, so it is in its slot
          } else {
            slot = s;
          }
        } else if (open.peek() instanceof Map<?, ?> map && map.containsKey(name)) {
          throw duplicate();
        }
      }
      case START_OBJECT -> open.push(new LinkedHashMap<String, Object>());
      case START_ARRAY -> open.push(new ArrayList<>());
      case END_OBJECT, END_ARRAY -> {
        if (open.isEmpty()) {
          endRow(); // the row's own END_OBJECT
        } else {
          add(open.pop());
        }
      }
      case VALUE_STRING -> add(parser.getString());
      case VALUE_NUMBER_INT -> add(parser.getNumberValue());
      case VALUE_NUMBER_FLOAT -> add(parser.getDecimalValue());
      case VALUE_TRUE -> add(Boolean.TRUE);
      case VALUE_FALSE -> add(Boolean.FALSE);
      case VALUE_NULL -> add(null);
      default -> throw UpstreamFailure.body("unexpected JSON token in an upstream row");
    }
  }

  private void skip(JsonToken t) {
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      skipDepth++;
    } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
      skipDepth--;
    }
    if (skipDepth == 0 && t != JsonToken.PROPERTY_NAME) {
      skipDepth = -1;
    }
  }

  @SuppressWarnings("unchecked")
  private void add(@Nullable Object value) {
    Object container = open.peek();
    if (container == null) {
      values[slot] = value;
      present[slot] = true;
    } else if (container instanceof Map<?, ?> map) {
      ((Map<String, @Nullable Object>) map).put(parser.currentName(), value);
    } else {
      ((List<@Nullable Object>) container).add(value);
    }
  }

  /** The declared slot of the row's field {@code name}, its {@code at}-th key; -1 when it is not declared. */
  private int slotAt(String name, int at) {
    if (at < POSITIONS && namesAt[at] == name) {
      return slotsAt[at];
    }
    Integer s = slotOf.get(name);
    int found = s == null ? -1 : s;
    if (at < POSITIONS) {
      namesAt[at] = name;
      slotsAt[at] = found;
    }
    return found;
  }

  /**
   * The row filter's view of the row: null for a field the row does not have, as for a JSON null. The filter asks by
   * the same name instance row after row: its slot is looked up once.
   */
  private @Nullable Object rowValue(String name) {
    if (name != filterName) {
      Integer s = slotOf.get(name);
      filterSlot = s == null ? -1 : s;
      filterName = name;
    }
    return filterSlot < 0 ? null : values[filterSlot];
  }

  private void endRow() {
    state = State.ROWS;
    if (parser.currentLocation().getByteOffset() - rowStart > maxRowBytes) {
      throw UpstreamFailure.body("an upstream row is larger than " + maxRowBytes + " bytes");
    }
    if (!filter.test(lookup)) {
      return;
    }
    // the row's size from the generator's buffer and the sink together: no flush per row
    long before = sink.size() + out.streamWriteOutputBuffered();
    out.writeStartObject();
    List<PlannedColumn> columns = plan.columns();
    for (int i = 0; i < planSlots.length; i++) {
      int s = planSlots[i];
      if (s < 0 || !present[s]) {
        continue;
      }
      Object value = values[s];
      PlannedColumn column = columns.get(i);
      Mask mask = column.mask();
      out.writeName(column.name());
      write(mask == null ? value : mask.apply(value));
    }
    out.writeEndObject();
    onRow.accept(sink.size() + out.streamWriteOutputBuffered() - before);
  }

  private void write(@Nullable Object value) {
    if (value == null) {
      out.writeNull();
    } else if (value instanceof String s) {
      out.writeString(s);
    } else if (value instanceof Boolean b) {
      out.writeBoolean(b);
    } else if (value instanceof Integer i) {
      out.writeNumber(i);
    } else if (value instanceof Long l) {
      out.writeNumber(l);
    } else if (value instanceof BigInteger b) {
      out.writeNumber(b);
    } else if (value instanceof BigDecimal d) {
      out.writeNumber(d);
    } else if (value instanceof Double d) {
      out.writeNumber(d);
    } else if (value instanceof Number n) {
      out.writeNumber(new BigDecimal(n.toString()));
    } else if (value instanceof Map<?, ?> map) {
      out.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.writeName(String.valueOf(e.getKey()));
        write(e.getValue());
      }
      out.writeEndObject();
    } else if (value instanceof List<?> list) {
      out.writeStartArray();
      for (Object element : list) {
        write(element);
      }
      out.writeEndArray();
    } else {
      out.writeString(value.toString()); // dates, UUIDs and the like from a mask
    }
  }

  /**
   * The output buffer: exposes its size so a row's serialized length can be measured. It grows to the largest output
   * of one chunk and is reused; a governed page's chunk yields a few kB, so it starts small (one per request).
   */
  private static final class Output extends ByteArrayOutputStream {
    Output() {
      super(2048);
    }

    @Override
    public synchronized byte[] toByteArray() {
      return Arrays.copyOf(buf, count);
    }
  }
}

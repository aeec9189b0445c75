package io.portcullis.gateway.connector.postgres;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.client.EncodedParameter;
import io.r2dbc.postgresql.codec.Codec;
import io.r2dbc.postgresql.codec.CodecRegistry;
import io.r2dbc.postgresql.codec.PostgresqlObjectId;
import io.r2dbc.postgresql.extension.CodecRegistrar;
import io.r2dbc.postgresql.message.Format;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * Decodes text, integer and numeric columns into a {@link TextForm} when the reader asks for one: a streamed read
 * spent about a tenth of the gateway's CPU per row decoding such values into Java objects and encoding them back into
 * the same bytes (load-tests/RESULTS.md). Decode-only: it never encodes a bind value, and it is chosen only for the
 * {@code TextForm} type, so every other {@code row.get} keeps the driver's own codecs. Registered on every connection
 * factory the gateway builds ({@link #REGISTRAR}).
 */
final class TextFormCodec implements Codec<TextForm> {

  static final TextFormCodec INSTANCE = new TextFormCodec();

  /** Adds the codec to a connection's registry; for {@code PostgresqlConnectionFactoryProvider.EXTENSIONS}. */
  static final CodecRegistrar REGISTRAR = new CodecRegistrar() {
    @Override
    public Publisher<Void> register(PostgresqlConnection connection, ByteBufAllocator allocator,
        CodecRegistry registry) {
      registry.addFirst(INSTANCE);
      return Mono.empty();
    }
  };

  private static final int TEXT = PostgresqlObjectId.TEXT.getObjectId();
  private static final int VARCHAR = PostgresqlObjectId.VARCHAR.getObjectId();
  private static final int BPCHAR = PostgresqlObjectId.BPCHAR.getObjectId();
  private static final int NAME = PostgresqlObjectId.NAME.getObjectId();
  private static final int INT2 = PostgresqlObjectId.INT2.getObjectId();
  private static final int INT4 = PostgresqlObjectId.INT4.getObjectId();
  private static final int INT8 = PostgresqlObjectId.INT8.getObjectId();
  private static final int NUMERIC = PostgresqlObjectId.NUMERIC.getObjectId();

  private TextFormCodec() {
  }

  /** Whether a column of this type is read as a {@link TextForm}: the reader asks only for these. */
  static boolean handles(int oid) {
    return isText(oid) || isNumber(oid);
  }

  private static boolean isText(int oid) {
    return oid == TEXT || oid == VARCHAR || oid == BPCHAR || oid == NAME;
  }

  private static boolean isNumber(int oid) {
    return oid == INT2 || oid == INT4 || oid == INT8 || oid == NUMERIC;
  }

  @Override
  public boolean canDecode(int dataType, Format format, Class<?> type) {
    return type == TextForm.class && handles(dataType);
  }

  @Override
  public @Nullable TextForm decode(@Nullable ByteBuf buffer, int dataType, Format format,
      Class<? extends TextForm> type) {
    if (buffer == null) {
      return null;
    }
    if (isText(dataType)) {
      return new TextForm(ByteBufUtil.getBytes(buffer), false); // binary or text: both are the UTF-8 text
    }
    if (format == Format.FORMAT_BINARY) {
      return number(binaryNumber(buffer, dataType));
    }
    byte[] text = ByteBufUtil.getBytes(buffer);
    // numeric's text form is digits with an optional sign and point, or NaN / Infinity / -Infinity: no JSON number
    return new TextForm(text, isJsonNumber(text));
  }

  private static TextForm number(String text) {
    byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
    return new TextForm(ascii, isJsonNumber(ascii));
  }

  static boolean isJsonNumber(byte[] text) {
    int i = text.length > 0 && text[0] == '-' ? 1 : 0;
    return i < text.length && text[i] >= '0' && text[i] <= '9';
  }

  /** A binary-format integer or numeric (a source whose URL sets forceBinary) as its text form. */
  private static String binaryNumber(ByteBuf b, int oid) {
    if (oid == INT2) {
      return Short.toString(b.getShort(b.readerIndex()));
    }
    if (oid == INT4) {
      return Integer.toString(b.getInt(b.readerIndex()));
    }
    if (oid == INT8) {
      return Long.toString(b.getLong(b.readerIndex()));
    }
    return binaryNumeric(b.duplicate());
  }

  /**
   * PostgreSQL's binary numeric: digit count, weight (of the first base-10000 digit), sign, display scale, then the
   * base-10000 digits.
   */
  static String binaryNumeric(ByteBuf b) {
    int digits = b.readShort();
    int weight = b.readShort();
    int sign = b.readUnsignedShort();
    int scale = b.readUnsignedShort();
    switch (sign) {
      case 0xC000:
        return "NaN";
      case 0xD000:
        return "Infinity";
      case 0xF000:
        return "-Infinity";
      default:
        break;
    }
    BigInteger unscaled = BigInteger.ZERO;
    BigInteger base = BigInteger.valueOf(10_000);
    for (int i = 0; i < digits; i++) {
      unscaled = unscaled.multiply(base).add(BigInteger.valueOf(b.readShort()));
    }
    // the digits read are unscaled × 10000^(weight - digits + 1)
    BigDecimal value = new BigDecimal(unscaled).scaleByPowerOfTen(4 * (weight - digits + 1)).setScale(scale,
        java.math.RoundingMode.UNNECESSARY);
    return (sign == 0x4000 ? value.negate() : value).toPlainString();
  }

  @Override
  public boolean canEncode(Object value) {
    return false;
  }

  @Override
  public boolean canEncodeNull(Class<?> type) {
    return false;
  }

  @Override
  public EncodedParameter encode(Object value) {
    throw new UnsupportedOperationException("TextForm is read-only");
  }

  @Override
  public EncodedParameter encode(Object value, int dataType) {
    throw new UnsupportedOperationException("TextForm is read-only");
  }

  @Override
  public EncodedParameter encodeNull() {
    throw new UnsupportedOperationException("TextForm is read-only");
  }
}

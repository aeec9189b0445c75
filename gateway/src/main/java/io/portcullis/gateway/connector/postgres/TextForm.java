package io.portcullis.gateway.connector.postgres;

import java.nio.charset.StandardCharsets;

/**
 * A column value as PostgreSQL sent it: its UTF-8 text form, copied out of the driver's row instead of decoded into a
 * {@code String}, {@code Long} or {@code BigDecimal} that the JSON encoder would only turn back into the same bytes.
 * Only for values whose text form is already their JSON form: text types (a JSON string once escaped) and integers and
 * finite numerics ({@link #number}: a JSON number as is). See {@link TextFormCodec}.
 */
final class TextForm {

  private final byte[] utf8;
  private final boolean number;

  TextForm(byte[] utf8, boolean number) {
    this.utf8 = utf8;
    this.number = number;
  }

  /** The UTF-8 bytes; not copied: the encoder only reads them. */
  byte[] utf8() {
    return utf8;
  }

  /** True when the bytes are a JSON number (digits, an optional sign and point), false for a string's content. */
  boolean number() {
    return number;
  }

  /** The value as a {@code String}, for the rare caller that needs one (masks never see a TextForm). */
  @Override
  public String toString() {
    return new String(utf8, StandardCharsets.UTF_8);
  }
}

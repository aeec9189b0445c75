package io.portcullis.policy;

import org.jspecify.annotations.Nullable;

/**
 * A column mask (DESIGN.md §4). Input values are plain Java (String, Integer, Long, BigDecimal, Double, Boolean,
 * LocalDate, OffsetDateTime, UUID); the output keeps the JSON type where the mask allows. Thread-safe.
 */
public interface Mask {
  /** The spec as written in the config, e.g. {@code round:2}. */
  String spec();

  @Nullable Object apply(@Nullable Object value);
}

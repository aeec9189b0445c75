package io.portcullis.policy.model;

import java.util.Objects;

/** A cost budget: {@code units} per {@code period} in time zone {@code zone}; warn at {@code softPercent}. */
public record Budget(BudgetPeriod period, long units, int softPercent, String zone) {
  public Budget {
    Objects.requireNonNull(period, "period");
    Objects.requireNonNull(zone, "zone");
  }
}

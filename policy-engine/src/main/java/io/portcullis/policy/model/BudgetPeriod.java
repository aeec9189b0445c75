package io.portcullis.policy.model;

import java.util.Locale;

/** The period a cost budget resets over. */
public enum BudgetPeriod {
  HOUR,
  DAY,
  WEEK,
  MONTH;

  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}

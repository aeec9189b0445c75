package io.portcullis.gateway.quota;

import io.portcullis.policy.model.BudgetPeriod;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;

/** Calendar-aligned budget periods in the budget's time zone: hours, days, ISO weeks (from Monday), months. */
final class BudgetPeriods {

  private BudgetPeriods() {
  }

  static Instant start(BudgetPeriod period, ZoneId zone, Instant at) {
    ZonedDateTime t = at.atZone(zone);
    LocalDate day = t.toLocalDate();
    return switch (period) {
      case HOUR -> t.truncatedTo(ChronoUnit.HOURS).toInstant();
      case DAY -> day.atStartOfDay(zone).toInstant();
      case WEEK -> day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY)).atStartOfDay(zone).toInstant();
      case MONTH -> day.withDayOfMonth(1).atStartOfDay(zone).toInstant();
    };
  }

  /** The start of the next period: when a hard limit lifts. */
  static Instant end(BudgetPeriod period, ZoneId zone, Instant start) {
    ZonedDateTime s = start.atZone(zone);
    LocalDate day = s.toLocalDate();
    return switch (period) {
      case HOUR -> s.plusHours(1).toInstant();
      case DAY -> day.plusDays(1).atStartOfDay(zone).toInstant();
      case WEEK -> day.plusWeeks(1).atStartOfDay(zone).toInstant();
      case MONTH -> day.plusMonths(1).atStartOfDay(zone).toInstant();
    };
  }
}

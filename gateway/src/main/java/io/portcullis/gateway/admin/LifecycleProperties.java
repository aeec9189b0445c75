package io.portcullis.gateway.admin;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * App review lifecycle (issue 8): reminders before and after an app's {@code review_due}, auto-pause once it is
 * past due by more than the grace period.
 *
 * @param enabled       run the scheduled check on this instance (notices are deduplicated across replicas)
 * @param grace         how long past {@code review_due} an app keeps working before it is paused
 * @param reminderLead  how long before {@code review_due} reminders start (one event per app and day)
 * @param checkInterval how often the check runs
 */
@ConfigurationProperties("portcullis.admin.lifecycle")
public record LifecycleProperties(
    @DefaultValue("true") boolean enabled,
    @DefaultValue("90d") Duration grace,
    @DefaultValue("14d") Duration reminderLead,
    @DefaultValue("1h") Duration checkInterval) {

  public LifecycleProperties {
    if (grace.isNegative() || reminderLead.isNegative()) {
      throw new IllegalArgumentException("grace: %s, reminderLead: %s (expected: >= 0)".formatted(grace, reminderLead));
    }
    if (checkInterval.isNegative() || checkInterval.isZero()) {
      throw new IllegalArgumentException("checkInterval: %s (expected: > 0)".formatted(checkInterval));
    }
  }
}

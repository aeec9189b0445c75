package io.portcullis.policy;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of {@link PolicySnapshot#decide}: allowed or denied with a code, the grant and policy block ids that
 * decided, the config version, and for an allowed request the bound row filter, the column plan and the dataset's
 * cost weight. A denial carries {@link BoundRowFilter#EMPTY} and an empty plan.
 */
public record Decision(
    boolean allowed,
    @Nullable DenyCode denyCode,
    String reason,
    List<String> policyIds,
    long configVersion,
    BoundRowFilter rowFilter,
    ColumnPlan columns,
    double costWeight) {

  public Decision {
    if (allowed == (denyCode != null)) {
      throw new IllegalArgumentException("denyCode: %s (expected: null iff allowed)".formatted(denyCode));
    }
    Objects.requireNonNull(reason, "reason");
    policyIds = List.copyOf(policyIds);
    Objects.requireNonNull(rowFilter, "rowFilter");
    Objects.requireNonNull(columns, "columns");
  }

  static Decision deny(DenyCode code, String reason, List<String> policyIds, long version) {
    return new Decision(false, code, reason, policyIds, version, BoundRowFilter.EMPTY, ColumnPlan.NONE, 0);
  }
}

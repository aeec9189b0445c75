package io.portcullis.policy;

import io.portcullis.policy.model.ColumnType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Everything decided at compile time for one (grant, action): the grant condition, the denials that cannot change
 * per request, the per-request deny checks, the full row filter, the column plan and the decision ids. {@code decide}
 * only evaluates what depends on the request.
 */
final class GrantPlan {
  /** A deny check evaluated per request: denies when the condition is true or errors (fail closed). */
  record DenyCheck(Cond cond, Decision decision) {}

  /** A mask block with a condition: composed onto the plan only for requests where the condition holds. */
  record ConditionalMask(String blockId, Cond cond, Map<String, String> specs) {}

  final String grantId;
  final @Nullable Cond condition;
  final Decision conditionDeny;
  final @Nullable Decision staticDeny;
  final DenyCheck[] denyChecks;
  final ConditionalMask[] conditionalMasks;
  final RowFilterPlan rowFilter;
  final ColumnPlan columns;
  final List<String> policyIds;
  final String allowReason;
  final double costWeight;
  final long version;
  /**
   * The whole decision when nothing in the plan reads the request (no condition, no per-request deny check or
   * conditional mask, no row filter to bind): built once, so that such requests allocate nothing. Null otherwise.
   */
  final @Nullable Decision fixed;
  // kept for the rare conditional-mask composition
  private final Map<String, String> specs;
  private final Set<String> hidden;
  private final List<io.portcullis.policy.model.Column> datasetColumns;
  private final Map<String, Mask> maskCache;

  GrantPlan(String grantId, @Nullable Cond condition, @Nullable Decision staticDeny, List<DenyCheck> denyChecks,
      List<ConditionalMask> conditionalMasks, RowFilterPlan rowFilter, Map<String, String> specs, Set<String> hidden,
      List<io.portcullis.policy.model.Column> datasetColumns, Map<String, Mask> maskCache, List<String> policyIds,
      double costWeight, long version) {
    this.grantId = grantId;
    this.condition = condition;
    this.conditionDeny = Decision.deny(DenyCode.POLICY_DENIED, "condition of grant " + grantId + " not met",
        List.of(grantId), version);
    this.staticDeny = staticDeny;
    this.denyChecks = denyChecks.toArray(new DenyCheck[0]);
    this.conditionalMasks = conditionalMasks.toArray(new ConditionalMask[0]);
    this.rowFilter = rowFilter;
    this.specs = Map.copyOf(specs);
    this.hidden = Set.copyOf(hidden);
    this.datasetColumns = List.copyOf(datasetColumns);
    this.maskCache = maskCache;
    this.columns = plan(datasetColumns, specs, hidden, maskCache);
    this.policyIds = List.copyOf(policyIds);
    this.allowReason = "allowed by grant " + grantId;
    this.costWeight = costWeight;
    this.version = version;
    this.fixed = condition != null ? null
        : staticDeny != null ? staticDeny
        : this.denyChecks.length == 0 && this.conditionalMasks.length == 0 && rowFilter.isEmpty()
            ? new Decision(true, null, allowReason, this.policyIds, version, BoundRowFilter.EMPTY, columns, costWeight)
            : null;
  }

  Decision decide(EvalContext c) {
    if (fixed != null) {
      return fixed;
    }
    if (condition != null && condition.eval(c) != Values.TRUE) {
      return conditionDeny;
    }
    if (staticDeny != null) {
      return staticDeny;
    }
    for (DenyCheck d : denyChecks) {
      if (d.cond().eval(c) != Values.FALSE) {
        return d.decision();
      }
    }
    ColumnPlan plan = columns;
    List<String> ids = policyIds;
    if (conditionalMasks.length > 0) {
      Map<String, String> composed = null;
      for (ConditionalMask m : conditionalMasks) {
        // an error applies the mask: a mask that fails to evaluate must not reveal more
        if (m.cond().eval(c) != Values.FALSE) {
          if (composed == null) {
            composed = new LinkedHashMap<>(specs);
            ids = new ArrayList<>(policyIds);
          }
          for (Map.Entry<String, String> e : m.specs().entrySet()) {
            compose(composed, e.getKey(), e.getValue());
          }
          ids.add(m.blockId());
        }
      }
      if (composed != null) {
        plan = plan(datasetColumns, composed, hidden, maskCache);
      }
    }
    return new Decision(true, null, allowReason, ids, version, rowFilter.bind(c), plan, costWeight);
  }

  /** Most restrictive wins (see {@link Masks}); at equal rank the later (policy block) spec wins. */
  static boolean compose(Map<String, String> specs, String column, String spec) {
    String current = specs.getOrDefault(column, "keep");
    if (Masks.rank(spec) >= Masks.rank(current) && !spec.equals(current)) {
      specs.put(column, spec);
      return true;
    }
    return false;
  }

  private static ColumnPlan plan(List<io.portcullis.policy.model.Column> columns, Map<String, String> specs,
      Set<String> hidden, Map<String, Mask> maskCache) {
    List<PlannedColumn> visible = new ArrayList<>();
    Set<String> allHidden = new LinkedHashSet<>();
    for (io.portcullis.policy.model.Column c : columns) {
      String spec = specs.getOrDefault(c.name(), "keep");
      if (hidden.contains(c.name()) || spec.equals("drop")) {
        allHidden.add(c.name());
        continue;
      }
      ColumnType type = c.type();
      visible.add(new PlannedColumn(c.name(), type, spec.equals("keep") ? null : maskCache.get(spec)));
    }
    return new ColumnPlan(visible, allHidden);
  }
}

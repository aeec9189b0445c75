package io.portcullis.gateway.admin;

import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.PolicyConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What changed between two configs, entity by entity (apps, datasets, grants, policies, routes, settings), computed
 * from the model rather than the YAML text: reordering or reformatting a file is no change, and a changed entity
 * lists the fields that differ with their old and new values. A reader (the console, a reviewer) sees "grant g1:
 * row_filter changed" instead of a line diff.
 */
record ConfigDiff(List<Change> changes, @Nullable Map<String, Object> settingsBefore,
    @Nullable Map<String, Object> settingsAfter) {

  enum Op { ADDED, REMOVED, CHANGED }

  /** One entity's change; {@code fields} names the changed top-level fields (empty unless {@code CHANGED}). */
  record Change(EntityKind kind, String id, Op op, @Nullable Map<String, Object> before,
      @Nullable Map<String, Object> after, List<String> fields) {
  }

  ConfigDiff {
    changes = List.copyOf(changes);
  }

  static ConfigDiff between(PolicyConfig before, PolicyConfig after) {
    return between(PolicyConfigWriter.toTree(before), PolicyConfigWriter.toTree(after));
  }

  @SuppressWarnings("unchecked")
  static ConfigDiff between(Map<String, Object> before, Map<String, Object> after) {
    List<Change> changes = new ArrayList<>();
    for (EntityKind kind : EntityKind.values()) {
      Map<String, Map<String, Object>> a = index(kind, (List<Map<String, Object>>) before.get(kind.collection()));
      Map<String, Map<String, Object>> b = index(kind, (List<Map<String, Object>>) after.get(kind.collection()));
      for (Map.Entry<String, Map<String, Object>> e : a.entrySet()) {
        Map<String, Object> next = b.get(e.getKey());
        if (next == null) {
          changes.add(new Change(kind, e.getKey(), Op.REMOVED, e.getValue(), null, List.of()));
        } else if (!e.getValue().equals(next)) {
          changes.add(new Change(kind, e.getKey(), Op.CHANGED, e.getValue(), next, changedFields(e.getValue(), next)));
        }
      }
      for (Map.Entry<String, Map<String, Object>> e : b.entrySet()) {
        if (!a.containsKey(e.getKey())) {
          changes.add(new Change(kind, e.getKey(), Op.ADDED, null, e.getValue(), List.of()));
        }
      }
    }
    Object sa = before.get("settings");
    Object sb = after.get("settings");
    boolean settingsChanged = !Objects.equals(sa, sb);
    return new ConfigDiff(changes, settingsChanged ? (Map<String, Object>) sa : null,
        settingsChanged ? (Map<String, Object>) sb : null);
  }

  boolean isEmpty() {
    return changes.isEmpty() && settingsBefore == null && settingsAfter == null;
  }

  boolean settingsChanged() {
    return settingsBefore != null || settingsAfter != null;
  }

  /** One line a list view shows: {@code "apps: 1 changed; grants: 1 added, 1 removed"}. */
  String summary() {
    if (isEmpty()) {
      return "no change";
    }
    List<String> parts = new ArrayList<>();
    for (EntityKind kind : EntityKind.values()) {
      List<String> counts = new ArrayList<>();
      for (Op op : Op.values()) {
        long n = changes.stream().filter(c -> c.kind() == kind && c.op() == op).count();
        if (n > 0) {
          counts.add(n + " " + op.name().toLowerCase(java.util.Locale.ROOT));
        }
      }
      if (!counts.isEmpty()) {
        parts.add(kind.collection() + ": " + String.join(", ", counts));
      }
    }
    if (settingsChanged()) {
      parts.add("settings: changed");
    }
    return String.join("; ", parts);
  }

  /**
   * The JSON form stored with each version and answered by the diff endpoint: {@code summary}, {@code changes[]} with
   * {@code kind}, {@code id}, {@code op}, and per op the entity ({@code after} when added, {@code before} when removed)
   * or the changed {@code fields[]} ({@code field}, {@code before}, {@code after}); {@code settings} when changed.
   */
  Map<String, Object> toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("summary", summary());
    List<Map<String, Object>> list = new ArrayList<>();
    for (Change c : changes) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", c.kind().singular());
      m.put("id", c.id());
      m.put("op", c.op().name().toLowerCase(java.util.Locale.ROOT));
      switch (c.op()) {
        case ADDED -> m.put("after", c.after());
        case REMOVED -> m.put("before", c.before());
        case CHANGED -> {
          List<Map<String, Object>> fields = new ArrayList<>();
          for (String f : c.fields()) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("field", f);
            fm.put("before", c.before().get(f));
            fm.put("after", c.after().get(f));
            fields.add(fm);
          }
          m.put("fields", fields);
        }
      }
      list.add(m);
    }
    json.put("changes", list);
    if (settingsChanged()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("before", settingsBefore);
      s.put("after", settingsAfter);
      json.put("settings", s);
    }
    return json;
  }

  private static Map<String, Map<String, Object>> index(EntityKind kind, @Nullable List<Map<String, Object>> list) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    if (list != null) {
      for (Map<String, Object> m : list) {
        out.put(String.valueOf(m.get(kind.key())), m);
      }
    }
    return out;
  }

  private static List<String> changedFields(Map<String, Object> a, Map<String, Object> b) {
    Set<String> keys = new LinkedHashSet<>(a.keySet());
    keys.addAll(b.keySet());
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (!Objects.equals(a.get(k), b.get(k))) {
        out.add(k);
      }
    }
    return out;
  }
}

package io.portcullis.policy.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Which columns a grant exposes: {@code allow} ({@code null} = all), minus {@code deny}, with per-column masks. */
public record ColumnRule(@Nullable List<String> allow, List<String> deny, Map<String, String> masks) {
  public static final ColumnRule ALL = new ColumnRule(null, List.of(), Map.of());

  public ColumnRule {
    allow = allow == null ? null : List.copyOf(allow);
    deny = List.copyOf(deny);
    // insertion order is kept so the writer round-trips the file as written
    masks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(masks));
  }
}

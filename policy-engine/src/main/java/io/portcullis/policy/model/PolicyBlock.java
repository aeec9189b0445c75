package io.portcullis.policy.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A reusable rule applied by selector. Either a custom block ({@code builtin == null}; {@code effect} says what it
 * does) or the configuration of a built-in ({@code builtin} names it; {@code appliesTo}/{@code enabled} narrow or
 * switch it off, and for {@code residency} the {@code condition}/{@code rowFilter} replace the default rule).
 * {@code masks} keys are column names or {@code tag:<tag>}.
 */
public record PolicyBlock(
    String id,
    @Nullable String builtin,
    Selector appliesTo,
    Effect effect,
    @Nullable String condition,
    @Nullable String rowFilter,
    Map<String, String> masks,
    @Nullable String description,
    boolean enabled) {

  public PolicyBlock {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(appliesTo, "appliesTo");
    Objects.requireNonNull(effect, "effect");
    masks = Collections.unmodifiableMap(new LinkedHashMap<>(masks));
  }
}

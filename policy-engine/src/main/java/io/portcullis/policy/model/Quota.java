package io.portcullis.policy.model;

import org.jspecify.annotations.Nullable;

/** Rate, burst, concurrency and optional cost budget of an app; {@code null} on an app means the tier default. */
public record Quota(double ratePerSecond, int burst, int concurrency, @Nullable Budget budget) {}

package io.portcullis.policy;

import io.portcullis.policy.model.Action;
import org.jspecify.annotations.Nullable;
import java.time.Instant;

/**
 * One request as the policy engine sees it. Fields are nullable on purpose: {@code decide} never throws and turns a
 * malformed request into a deny with a reason.
 */
public record DecisionRequest(
    @Nullable TokenClaims token,
    @Nullable String dataset,
    @Nullable Action action,
    @Nullable String method,
    @Nullable String path,
    @Nullable String clientIp,
    @Nullable Instant time) {}

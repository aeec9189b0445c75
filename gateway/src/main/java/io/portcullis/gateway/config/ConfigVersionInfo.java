package io.portcullis.gateway.config;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What the admin API lists about a version: who, why, when, and what changed.
 *
 * @param parent   the version the change was based on; null for versions stored outside the admin API
 * @param diffJson the per-entity diff against the parent (JSON), null for versions stored outside the admin API
 * @param approval the second admin's signed approval (compact JWS) of a four-eyes change, else null
 */
public record ConfigVersionInfo(long version, @Nullable Long parent, String author, String reason, Instant createdAt,
    @Nullable String diffJson, @Nullable String approval) {
}

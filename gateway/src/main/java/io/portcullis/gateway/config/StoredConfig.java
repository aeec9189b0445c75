package io.portcullis.gateway.config;

import java.time.Instant;

/** One stored config version (DESIGN.md §8: versioned with author and reason). */
public record StoredConfig(long version, String yaml, String author, String reason, Instant createdAt) {
}

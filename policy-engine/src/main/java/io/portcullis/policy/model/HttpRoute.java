package io.portcullis.policy.model;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An admin-configured HTTP upstream under its own path prefix. {@code filterParams} maps a dataset column to the
 * upstream query parameter that filters on it: the row filter's equality on that column is sent as that parameter.
 */
public record HttpRoute(String id, String pathPrefix, String uri, Duration timeout, Map<String, String> filterParams) {
  public HttpRoute {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(pathPrefix, "pathPrefix");
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(timeout, "timeout");
    filterParams = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(filterParams, "filterParams")));
  }

  public HttpRoute(String id, String pathPrefix, String uri, Duration timeout) {
    this(id, pathPrefix, uri, timeout, Map.of());
  }
}

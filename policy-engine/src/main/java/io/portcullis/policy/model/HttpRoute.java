package io.portcullis.policy.model;

import java.time.Duration;
import java.util.Objects;

/** An admin-configured HTTP upstream under its own path prefix. */
public record HttpRoute(String id, String pathPrefix, String uri, Duration timeout) {
  public HttpRoute {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(pathPrefix, "pathPrefix");
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(timeout, "timeout");
  }
}

package io.portcullis.policy.model;

import java.util.Objects;

/**
 * An HTTP upstream: {@code route} names an {@link HttpRoute}; {@code rowsPointer} is the JSON pointer of the row array
 * in the upstream body ({@code ""} = the body itself).
 */
public record HttpSource(String route, String rowsPointer) implements Source {
  public HttpSource {
    Objects.requireNonNull(route, "route");
    Objects.requireNonNull(rowsPointer, "rowsPointer");
  }
}

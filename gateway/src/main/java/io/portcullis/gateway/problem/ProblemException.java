package io.portcullis.gateway.problem;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A request refused with one of the {@link ProblemCode}s. Thrown often (every deny), so it carries no stack trace:
 * filling one costs microseconds and tells nothing a code does not.
 */
public final class ProblemException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final ProblemCode code;
  private final @Nullable String policy;
  private final List<Map<String, String>> violations;
  private final Map<String, String> headers;

  public ProblemException(ProblemCode code, String detail) {
    this(code, detail, null, List.of(), Map.of());
  }

  public ProblemException(ProblemCode code, String detail, @Nullable String policy) {
    this(code, detail, policy, List.of(), Map.of());
  }

  public ProblemException(ProblemCode code, String detail, @Nullable String policy,
      List<Map<String, String>> violations, Map<String, String> headers) {
    super(detail, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.policy = policy;
    this.violations = List.copyOf(violations);
    this.headers = Map.copyOf(headers);
  }

  public ProblemCode code() {
    return code;
  }

  public String detail() {
    return getMessage();
  }

  public @Nullable String policy() {
    return policy;
  }

  /** For {@code invalid_body}: one entry per violation ({@code pointer}, {@code message}). */
  public List<Map<String, String>> violations() {
    return violations;
  }

  /** Extra response headers, e.g. {@code Retry-After}. */
  public Map<String, String> headers() {
    return headers;
  }
}

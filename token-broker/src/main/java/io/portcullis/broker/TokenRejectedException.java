package io.portcullis.broker;

import java.util.Objects;

/**
 * An access token the gateway must refuse. Cheap by design (no stack trace, no suppression): it is the expected outcome
 * of every attack, and a flood of bad tokens must cost a hash lookup, not a stack walk.
 *
 * <p>{@link #detail()} is for logs and audit; do not echo it to the caller beyond the {@link #error()} code.
 */
public final class TokenRejectedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final TokenError error;

  public TokenRejectedException(TokenError error, String detail) {
    super(Objects.requireNonNull(detail, "detail"), null, false, false);
    this.error = Objects.requireNonNull(error, "error");
  }

  public TokenError error() {
    return error;
  }

  public String detail() {
    return getMessage();
  }

  @Override
  public String toString() {
    return "TokenRejectedException[" + error.code() + ": " + getMessage() + "]";
  }
}

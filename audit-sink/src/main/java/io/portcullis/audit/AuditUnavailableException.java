package io.portcullis.audit;

/**
 * An event could be persisted neither in the sink nor in the spill file (yet): tier-2 requests must fail closed.
 * The event itself is kept and retried; only the caller's wait ends. No stack trace: this is an expected state.
 */
public final class AuditUnavailableException extends RuntimeException {

  public AuditUnavailableException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}

package io.portcullis.gateway.database;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.net.ConnectException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The gateway's first touch of PostgreSQL at start waits for the database to accept connections: a compose stack or a
 * Kubernetes rollout starts both at once, and a just-started embedded server on a busy machine can take seconds to
 * hand out its first connection. Only "cannot reach it yet" is waited out; a wrong password or a failing script stops
 * the start at once.
 */
public final class DatabaseWait {
  private static final Logger log = LoggerFactory.getLogger(DatabaseWait.class);

  private DatabaseWait() {
  }

  public static <T> Mono<T> untilReachable(Mono<T> firstUse, Duration firstBackoff, Duration maxBackoff) {
    return firstUse.retryWhen(Retry.backoff(Long.MAX_VALUE, firstBackoff).maxBackoff(maxBackoff)
        .filter(DatabaseWait::unreachable)
        .doBeforeRetry(signal -> {
          if (signal.totalRetries() == 0) {
            log.info("waiting for PostgreSQL to accept connections ({})", signal.failure().toString());
          }
        }));
  }

  static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof R2dbcTimeoutException || t instanceof R2dbcTransientResourceException
          || t instanceof ConnectException) {
        return true;
      }
      // r2dbc-postgresql reports a refused or dropped connection as a non-transient resource failure (08xxx states)
      if (t instanceof R2dbcNonTransientResourceException r && r.getSqlState() != null
          && r.getSqlState().startsWith("08")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}

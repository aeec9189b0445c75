package io.portcullis.broker;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/**
 * A JWK Set fetched from a URL with a non-blocking {@link WebClient} and cached.
 *
 * <p>Refreshes when the set is older than {@code maxAge} (in the background, serving the cached keys meanwhile) and
 * when a token names an unknown {@code kid} — but starts at most one fetch per {@code minRefreshInterval}, so a flood
 * of tokens with made-up key ids cannot turn into a flood of requests to the JWKS endpoint. Concurrent callers share
 * one fetch. When a fetch fails the previous keys stay in use.
 */
public final class RemoteJwks implements VerificationKeys {

  /** A JWKS of a few keys is ~1–3 KiB; anything near this is not a key set. */
  static final int MAX_JWKS_BYTES = 64 * 1024;
  private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);

  private final WebClient webClient;
  private final URI uri;
  private final Duration minRefreshInterval;
  private final Duration maxAge;
  private final Clock clock;
  private final AtomicReference<Fetched> current = new AtomicReference<>();
  private final AtomicReference<Attempt> lastAttempt = new AtomicReference<>();

  private record Fetched(JWKSet keys, long fetchedAtMillis) {}

  private record Attempt(long startedAtMillis, Mono<Fetched> result) {}

  public RemoteJwks(WebClient.Builder webClientBuilder, URI uri, Duration minRefreshInterval, Duration maxAge,
      Clock clock) {
    Objects.requireNonNull(webClientBuilder, "webClientBuilder");
    this.uri = Objects.requireNonNull(uri, "uri");
    this.minRefreshInterval = Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
    this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (minRefreshInterval.isNegative()) {
      throw new IllegalArgumentException("minRefreshInterval: %s (expected: >= 0)".formatted(minRefreshInterval));
    }
    this.webClient = webClientBuilder.clone()
        .codecs(c -> c.defaultCodecs().maxInMemorySize(MAX_JWKS_BYTES))
        .build();
  }

  @Override
  public Mono<JWK> find(String kid) {
    Fetched f = current.get();
    if (f != null) {
      JWK key = f.keys().getKeyByKeyId(kid);
      if (key != null) {
        if (clock.millis() - f.fetchedAtMillis() > maxAge.toMillis()) {
          refresh().subscribe();
        }
        return Mono.just(key);
      }
    }
    return refresh().mapNotNull(fetched -> fetched.keys().getKeyByKeyId(kid));
  }

  /** The cached set, fetching it first when none is held yet. */
  public Mono<JWKSet> keys() {
    Fetched f = current.get();
    return f != null ? Mono.just(f.keys()) : refresh().map(Fetched::keys);
  }

  private Mono<Fetched> refresh() {
    long now = clock.millis();
    Attempt last = lastAttempt.get();
    if (last != null && now - last.startedAtMillis() < minRefreshInterval.toMillis()) {
      return last.result().then(Mono.fromSupplier(current::get));
    }
    Mono<Fetched> fetch = fetch().doOnNext(current::set)
        .onErrorResume(failed -> Mono.justOrEmpty(current.get()))
        .cache();
    Attempt next = new Attempt(now, fetch);
    if (!lastAttempt.compareAndSet(last, next)) {
      // Another caller started a fetch at the same moment: share it.
      return lastAttempt.get().result().then(Mono.fromSupplier(current::get));
    }
    return fetch;
  }

  private Mono<Fetched> fetch() {
    return webClient.get().uri(uri).accept(MediaType.APPLICATION_JSON)
        .retrieve()
        .bodyToMono(String.class)
        .timeout(FETCH_TIMEOUT)
        .map(body -> new Fetched(parse(body), clock.millis()));
  }

  private JWKSet parse(String body) {
    try {
      // Whatever the server sends, we only ever hold public keys.
      return JWKSet.parse(body).toPublicJWKSet();
    } catch (ParseException e) {
      throw new IllegalStateException("JWKS at " + uri + " does not parse: " + e.getMessage());
    }
  }

  @Nullable JWKSet cached() {
    Fetched f = current.get();
    return f == null ? null : f.keys();
  }

  @Override
  public String toString() {
    return "RemoteJwks[" + uri + "]";
  }
}

package io.portcullis.gateway.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Token buckets in Redis, shared by every replica (bucket4j's compare-and-swap backend over one async Lettuce
 * connection). Each bucket proxy is built once and uses {@code Optimizations.batching()}: concurrent requests on
 * one hot key are folded into one CAS round trip instead of retrying against each other (STACK.md: 10k concurrent
 * on one key took 16–18 s without it, 31 ms with it).
 *
 * <p>When Redis does not answer within {@code timeout} or refuses (disconnected), this replica falls back to local
 * buckets holding its {@code 1/replicas} share of each limit, logs that once, and stops calling Redis on the request
 * path; a background probe pings Redis every {@code probeInterval} and switches back when it answers.
 */
final class RedisRateLimiters implements RateLimiters {

  private static final Logger log = LoggerFactory.getLogger(RedisRateLimiters.class);
  private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  private static final String KEY_PREFIX = "portcullis:rate:";

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private final Duration timeout;
  private final int replicas;
  private final LocalRateLimiters fallback;
  private final Cache<Key, AsyncBucketProxy> proxies;
  private final AtomicBoolean degraded = new AtomicBoolean();
  private final Disposable prober;
  private volatile @Nullable StatefulRedisConnection<String, byte[]> connection;
  private volatile @Nullable AsyncProxyManager<String> manager;

  RedisRateLimiters(String redisUri, Duration timeout, int replicas, Duration probeInterval, int maxBuckets) {
    this.timeout = timeout;
    this.replicas = replicas;
    this.fallback = new LocalRateLimiters(maxBuckets);
    this.proxies = Caffeine.newBuilder().maximumSize(maxBuckets).expireAfterAccess(Duration.ofMinutes(10)).build();
    // Reconnect at the probe's pace, not Lettuce's default back-off (up to 30 s): recovery should take seconds.
    this.resources = DefaultClientResources.builder()
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(2)
        .reconnectDelay(Delay.constant(probeInterval))
        .build();
    this.uri = RedisURI.create(redisUri);
    uri.setTimeout(timeout);
    this.client = RedisClient.create(resources, uri);
    // Fail fast while disconnected instead of queueing commands until they time out: the request path must not wait.
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(timeout))
        .socketOptions(SocketOptions.builder().connectTimeout(timeout.multipliedBy(4)).build())
        .build());
    try {
      // Start-up may block (no request is served yet); later connects are asynchronous, from the probe.
      install(client.connect(CODEC, uri));
    } catch (RedisException e) {
      enterFallback(e);
    }
    this.prober = Flux.interval(probeInterval, probeInterval)
        .onBackpressureDrop()
        .concatMap(tick -> probe())
        .subscribe();
  }

  private void install(StatefulRedisConnection<String, byte[]> c) {
    connection = c;
    manager = Bucket4jLettuce.casBasedBuilder(c)
        .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
        .requestTimeout(timeout)
        .build()
        .asAsync();
    proxies.invalidateAll();
  }

  @Override
  public Mono<RateProbe> tryConsume(String key, LimitSpec spec) {
    AsyncProxyManager<String> m = manager;
    if (m == null || degraded.get()) {
      return fallback.tryConsume(key, spec.divided(replicas));
    }
    AsyncBucketProxy proxy = proxy(m, key, spec);
    return Mono.fromCompletionStage(() -> proxy.tryConsumeAndReturnRemaining(1))
        .timeout(timeout)
        .map(probe -> RateProbe.of(probe, spec))
        .onErrorResume(RedisRateLimiters::isRedisFailure, e -> {
          enterFallback(e);
          return fallback.tryConsume(key, spec.divided(replicas));
        });
  }

  @Override
  public Mono<RateProbe> peek(String key, LimitSpec spec) {
    AsyncProxyManager<String> m = manager;
    if (m == null || degraded.get()) {
      return fallback.peek(key, spec.divided(replicas));
    }
    AsyncBucketProxy proxy = proxy(m, key, spec);
    return Mono.fromCompletionStage(() -> proxy.estimateAbilityToConsume(1))
        .timeout(timeout)
        .map(probe -> RateProbe.peek(probe, spec))
        .onErrorResume(RedisRateLimiters::isRedisFailure, e -> {
          enterFallback(e);
          return fallback.peek(key, spec.divided(replicas));
        });
  }

  private AsyncBucketProxy proxy(AsyncProxyManager<String> m, String key, LimitSpec spec) {
    return proxies.get(new Key(key, spec), k -> m.builder()
        .withOptimization(Optimizations.batching())
        .build(KEY_PREFIX + key + ':' + spec.capacity() + ':' + spec.nanosPerToken(),
            () -> CompletableFuture.completedFuture(spec.configuration())));
  }

  private Mono<Void> probe() {
    if (!degraded.get()) {
      return Mono.empty();
    }
    StatefulRedisConnection<String, byte[]> c = connection;
    Mono<StatefulRedisConnection<String, byte[]>> connected = c != null ? Mono.just(c)
        : Mono.fromCompletionStage(() -> client.connectAsync(CODEC, uri).toCompletableFuture())
            .doOnNext(this::install);
    return connected
        .flatMap(conn -> Mono.fromCompletionStage(() -> conn.async().ping()))
        .timeout(timeout)
        .doOnNext(pong -> {
          if (degraded.compareAndSet(true, false)) {
            log.info("Redis at {} answers again: rate limits are shared across replicas again", uri.getHost());
          }
        })
        .onErrorResume(e -> Mono.empty())
        .then();
  }

  private void enterFallback(Throwable cause) {
    if (degraded.compareAndSet(false, true)) {
      log.warn("Redis at {}:{} unreachable ({}): enforcing this replica's 1/{} share of each rate limit locally "
          + "until it answers", uri.getHost(), uri.getPort(), rootMessage(cause), replicas);
    }
  }

  static boolean isRedisFailure(Throwable error) {
    Throwable t = error;
    for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
      if (t instanceof RedisException || t instanceof TimeoutException || t instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  @Override
  public boolean inFallback() {
    return degraded.get();
  }

  @Override
  public String mode() {
    return "redis";
  }

  @Override
  public void close() {
    prober.dispose();
    StatefulRedisConnection<String, byte[]> c = connection;
    if (c != null) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  private record Key(String key, LimitSpec spec) {
  }
}

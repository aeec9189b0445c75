package io.portcullis.gateway.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
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
 * Token buckets in Redis, shared by every replica: at most one {@code EVALSHA} of {@link RedisBucketScript} per request
 * over one async Lettuce connection, for one bucket or two (per app and per app × dataset, atomically); concurrent
 * requests on the same bucket(s) share a call ({@link BucketLane}). bucket4j's Redis
 * backend (8.19) offers only compare-and-swap: a GET and a CAS script per bucket, 2–4 round trips for an uncontended
 * request; its batching only helps under concurrency, and its delaying/predicting optimizations trade away accuracy.
 * Local buckets stay bucket4j's.
 *
 * <p>When Redis does not answer within {@code timeout} or refuses (disconnected), this replica falls back to local
 * buckets holding its {@code 1/replicas} share of each limit, logs that once, and stops calling Redis on the request
 * path; a background probe pings Redis every {@code probeInterval} and switches back when it answers.
 */
final class RedisRateLimiters implements RateLimiters {

  private static final Logger log = LoggerFactory.getLogger(RedisRateLimiters.class);
  private static final RedisCodec<String, String> CODEC = StringCodec.UTF8;
  private static final String KEY_PREFIX = "portcullis:rate:";
  /** Version of the value's encoding (bucket4j's CAS state was binary under the same prefix, without it). */
  private static final String KEY_SUFFIX = ":gcra";
  private static final String LOOK = "0";

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private final Duration timeout;
  private final int replicas;
  private final LocalRateLimiters fallback;
  /** Per bucket (or pair of buckets) its lane: keys and arguments built once, concurrent requests coalesced. */
  private final Cache<Key, BucketLane> lanes;
  private final AtomicBoolean degraded = new AtomicBoolean();
  private final Disposable prober;
  private volatile @Nullable StatefulRedisConnection<String, String> connection;
  private volatile @Nullable RedisAsyncCommands<String, String> commands;

  RedisRateLimiters(String redisUri, Duration timeout, int replicas, Duration probeInterval, int maxBuckets) {
    this.timeout = timeout;
    this.replicas = replicas;
    this.fallback = new LocalRateLimiters(maxBuckets);
    // maintenance on the calling thread: the common ForkJoinPool would be woken every few requests (a context switch)
    this.lanes = Caffeine.newBuilder().executor(Runnable::run).maximumSize(maxBuckets).expireAfterAccess(Duration.ofMinutes(10)).build();
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

  private void install(StatefulRedisConnection<String, String> c) {
    connection = c;
    commands = c.async();
  }

  @Override
  public Mono<RateProbe> tryConsume(String key, LimitSpec spec) {
    if (commands == null || degraded.get()) {
      return fallback.tryConsume(key, spec.divided(replicas));
    }
    return lane(new Key(key, spec, null, null)).take()
        .timeout(timeout)
        .map(slot -> RedisBucketScript.probe(slot.reply(), 0, spec, slot.index()))
        .onErrorResume(RedisRateLimiters::isRedisFailure, e -> {
          enterFallback(e);
          return fallback.tryConsume(key, spec.divided(replicas));
        });
  }

  @Override
  public Mono<RateProbe.Pair> tryConsumeBoth(String key, LimitSpec spec, String otherKey, LimitSpec otherSpec) {
    if (commands == null || degraded.get()) {
      return fallback.tryConsumeBoth(key, spec.divided(replicas), otherKey, otherSpec.divided(replicas));
    }
    return lane(new Key(key, spec, otherKey, otherSpec)).take()
        .timeout(timeout)
        .map(slot -> new RateProbe.Pair(RedisBucketScript.probe(slot.reply(), 0, spec, slot.index()),
            RedisBucketScript.probe(slot.reply(), 1, otherSpec, slot.index())))
        .onErrorResume(RedisRateLimiters::isRedisFailure, e -> {
          enterFallback(e);
          return fallback.tryConsumeBoth(key, spec.divided(replicas), otherKey, otherSpec.divided(replicas));
        });
  }

  @Override
  public Mono<RateProbe> peek(String key, LimitSpec spec) {
    if (commands == null || degraded.get()) {
      return fallback.peek(key, spec.divided(replicas));
    }
    return script(new String[] {redisKey(key, spec)}, LOOK, Long.toString(spec.nanosPerToken()),
            Long.toString(spec.capacity()))
        // a look is reported as not refused, like a local peek: nothing was asked of the bucket
        .map(reply -> {
          RateProbe p = RedisBucketScript.probe(reply, 0, spec, 0);
          return new RateProbe(true, p.limit(), p.remaining(), 0, p.nanosToReset());
        })
        .onErrorResume(RedisRateLimiters::isRedisFailure, e -> {
          enterFallback(e);
          return fallback.peek(key, spec.divided(replicas));
        });
  }

  /** The bucket script on the current connection, bounded by the timeout. */
  private Mono<List<Long>> script(String[] keys, String... args) {
    RedisAsyncCommands<String, String> redis = commands;
    if (redis == null) {
      return Mono.error(new RedisException("not connected"));
    }
    return RedisBucketScript.run(redis, keys, args).timeout(timeout);
  }

  private BucketLane lane(Key key) {
    return lanes.get(key, k -> k.otherKey == null
        ? new BucketLane(new String[] {redisKey(k.key, k.spec)},
            new String[] {Long.toString(k.spec.nanosPerToken()), Long.toString(k.spec.capacity())}, this::script)
        : new BucketLane(new String[] {redisKey(k.key, k.spec), redisKey(k.otherKey, k.otherSpec)},
            new String[] {Long.toString(k.spec.nanosPerToken()), Long.toString(k.spec.capacity()),
                Long.toString(k.otherSpec.nanosPerToken()), Long.toString(k.otherSpec.capacity())}, this::script));
  }

  private static String redisKey(String key, LimitSpec spec) {
    return KEY_PREFIX + key + ':' + spec.capacity() + ':' + spec.nanosPerToken() + KEY_SUFFIX;
  }

  private Mono<Void> probe() {
    if (!degraded.get()) {
      return Mono.empty();
    }
    StatefulRedisConnection<String, String> c = connection;
    Mono<StatefulRedisConnection<String, String>> connected = c != null ? Mono.just(c)
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
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  /** One bucket, or a pair taken from together. */
  private record Key(String key, LimitSpec spec, @Nullable String otherKey, @Nullable LimitSpec otherSpec) {
  }
}

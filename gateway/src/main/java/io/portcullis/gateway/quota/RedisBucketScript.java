package io.portcullis.gateway.quota;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Token buckets evaluated inside Redis: one {@code EVALSHA} takes tokens from one or more buckets atomically, so a
 * request costs one round trip whatever the number of buckets, and concurrent requests on a hot key queue in Redis
 * instead of retrying against each other (bucket4j's compare-and-swap backend needs a GET and a CAS script per bucket,
 * and retries under contention).
 *
 * <p>Each key holds its bucket as GCRA state: the instant (Redis clock, microseconds) at which the bucket is full
 * again. A bucket of capacity C refilled one token every T is then: tokens available now = C − (that instant − now)/T,
 * and taking k tokens moves the instant k·T later. That is bucket4j's greedy refill exactly (same LimitSpec), with
 * the replicas' clocks out of the picture: only Redis's {@code TIME} is used. The key expires when the bucket is full,
 * since an absent key means a full bucket.
 *
 * <p>ARGV[1] is how many tokens to take — one per request of the call ({@link BucketLane}), 0 to only look; then each
 * bucket's nanos per token and capacity. Each request's token comes from every bucket or from none: k = min(n, tokens
 * held by each bucket) are taken from each. The reply: k, then per bucket the whole tokens it held before, the nanos
 * until its next token after this call, and the nanos until it is full after this call.
 */
final class RedisBucketScript {

  static final String SOURCE = """
      local n = tonumber(ARGV[1])
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local count = #KEYS
      local tats, periods, caps, held = {}, {}, {}, {}
      local k = n
      for j = 1, count do
        local period = tonumber(ARGV[2 * j]) / 1000
        local cap = tonumber(ARGV[2 * j + 1])
        local tat = tonumber(redis.call('GET', KEYS[j]) or '')
        if tat == nil or tat < now then tat = now end
        local h = math.floor(cap - (tat - now) / period + 1e-6)
        if h < 0 then h = 0 elseif h > cap then h = cap end
        tats[j], periods[j], caps[j], held[j] = tat, period, cap, h
        if h < k then k = h end
      end
      local out = {k}
      for j = 1, count do
        local tat = tats[j] + k * periods[j]
        if k > 0 then
          redis.call('SET', KEYS[j], string.format('%.17g', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
        end
        local refill = tat + periods[j] - now - caps[j] * periods[j]
        if refill < 0 then refill = 0 end
        out[3 * j - 1] = held[j]
        out[3 * j] = math.ceil(refill * 1000)
        out[3 * j + 1] = math.ceil((tat - now) * 1000)
      end
      return out
      """;

  static final String SHA1 = sha1(SOURCE);

  private RedisBucketScript() {
  }

  /**
   * Runs the script by its digest; after a Redis restart (script cache empty) the NOSCRIPT reply is answered with the
   * script itself once, which also caches it again.
   */
  static Mono<List<Long>> run(RedisAsyncCommands<String, String> redis, String[] keys, String... args) {
    return Mono.<List<Long>>fromCompletionStage(() -> redis.evalsha(SHA1, ScriptOutputType.MULTI, keys, args))
        .onErrorResume(RedisNoScriptException.class, e ->
            Mono.fromCompletionStage(() -> redis.eval(SOURCE, ScriptOutputType.MULTI, keys, args)));
  }

  /**
   * Bucket {@code j}'s outcome for the taker at {@code index} of a call (takers are served in index order), or of a
   * look ({@code n} = 0, index 0).
   */
  static RateProbe probe(List<Long> reply, int j, LimitSpec spec, int index) {
    long taken = reply.get(0);
    long held = reply.get(3 * j + 1);
    long nanosToRefill = reply.get(3 * j + 2);
    long nanosToReset = reply.get(3 * j + 3);
    if (index < taken) {
      // the takers after this one took their tokens in the same call: the bucket as this one left it
      long later = taken - 1 - index;
      return new RateProbe(true, spec.capacity(), held - index - 1, 0,
          Math.max(0, nanosToReset - later * spec.nanosPerToken()));
    }
    // nothing for this taker (this bucket or another ran out): whether this bucket alone would have granted it
    boolean wouldGrant = index < held;
    return new RateProbe(wouldGrant, spec.capacity(), Math.max(0, held - taken), wouldGrant ? 0
        : Math.max(1, nanosToRefill), nanosToReset);
  }

  private static String sha1(String source) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

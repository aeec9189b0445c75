package io.portcullis.gateway.quota;

import io.lettuce.core.RedisException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import reactor.core.publisher.Mono;

/**
 * Coalesces concurrent requests on the same Redis bucket(s) — a hot key — into one script call: while a call for this
 * lane is in flight, arriving requests wait, and when it returns they all go in the next call, which takes one token
 * each (in arrival order) in one round trip. Uncontended, a request is its own call; under load on one key, Redis runs
 * one script per round trip instead of one per request. Nothing is retried: the script is atomic in Redis.
 */
final class BucketLane {

  /** One request's place in a call: the script's reply and its index among the call's takers. */
  record Slot(List<Long> reply, int index) {
  }

  private final String[] keys;
  /** The script's arguments after the token count: each bucket's nanos per token and capacity. */
  private final String[] shape;
  private final BiFunction<String[], String[], Mono<List<Long>>> redis;
  private List<CompletableFuture<Slot>> waiting = new ArrayList<>();
  private boolean busy;

  /** @param redis runs the bucket script with the given keys and arguments (and bounds how long it may take) */
  BucketLane(String[] keys, String[] shape, BiFunction<String[], String[], Mono<List<Long>>> redis) {
    this.keys = keys;
    this.shape = shape;
    this.redis = redis;
  }

  /** Takes one token from every bucket of the lane, or none; completes when the call carrying it returns. */
  Mono<Slot> take() {
    return Mono.defer(() -> {
      CompletableFuture<Slot> slot = new CompletableFuture<>();
      boolean send;
      synchronized (this) {
        waiting.add(slot);
        send = !busy;
        busy = true;
      }
      if (send) {
        dispatch();
      }
      return Mono.fromFuture(slot);
    });
  }

  private void dispatch() {
    List<CompletableFuture<Slot>> batch;
    synchronized (this) {
      if (waiting.isEmpty()) {
        busy = false;
        return;
      }
      batch = waiting;
      waiting = new ArrayList<>();
    }
    String[] args = new String[shape.length + 1];
    args[0] = Integer.toString(batch.size());
    System.arraycopy(shape, 0, args, 1, shape.length);
    Mono<List<Long>> call;
    try {
      call = redis.apply(keys, args);
    } catch (RuntimeException e) {
      call = Mono.error(e);
    }
    // the next call goes out before this one's takers continue their requests (on the thread that completed it)
    call.subscribe(
        reply -> {
          dispatch();
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).complete(new Slot(reply, i));
          }
        },
        error -> {
          dispatch();
          batch.forEach(f -> f.completeExceptionally(error));
        },
        () -> {
          if (!batch.get(0).isDone()) {
            // completed without a reply: not expected of EVALSHA, but no taker may wait for ever
            dispatch();
            batch.forEach(f -> f.completeExceptionally(new RedisException("bucket script: no reply")));
          }
        });
  }
}

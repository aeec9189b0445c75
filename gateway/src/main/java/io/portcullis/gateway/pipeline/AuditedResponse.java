package io.portcullis.gateway.pipeline;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Holds back a response's last buffer until the request's audit event is journaled, so no client ever sees an
 * answer whose event a crash of this process could still lose. Every body shape passes here: a streamed body is one
 * buffer behind its producer, a single-buffer body (most answers, problems included) waits for the journal before its
 * headers go out, and a bodiless completion waits before it commits.
 */
final class AuditedResponse extends ServerHttpResponseDecorator {

  private final Supplier<Mono<Void>> beforeLast;
  private volatile boolean bodyStarted;

  /** @param beforeLast records the event; completes when it is journaled (must never error) */
  AuditedResponse(ServerHttpResponse delegate, Supplier<Mono<Void>> beforeLast) {
    super(delegate);
    this.beforeLast = beforeLast;
  }

  /**
   * Whether a body write began. One that began but never reached {@code beforeLast}, with nothing failing, was cut
   * by the client: Reactor Netty completes a send blocked on a full socket normally when the connection closes.
   */
  boolean bodyStarted() {
    return bodyStarted;
  }

  @Override
  public Mono<Void> writeWith(Publisher<? extends DataBuffer> body) {
    bodyStarted = true;
    return getDelegate().writeWith(holdLast(Flux.from(body), beforeLast, DataBufferUtils::release));
  }

  @Override
  public Mono<Void> writeAndFlushWith(Publisher<? extends Publisher<? extends DataBuffer>> body) {
    bodyStarted = true;
    return getDelegate().writeAndFlushWith(holdLast(Flux.from(body), beforeLast, p -> { }));
  }

  @Override
  public Mono<Void> setComplete() {
    return Mono.defer(beforeLast).then(Mono.defer(() -> getDelegate().setComplete()));
  }

  /** The body one element behind; on completion, waits for {@code before} and then emits the held last element. */
  static <T> Flux<T> holdLast(Flux<T> body, Supplier<Mono<Void>> before, Consumer<? super T> release) {
    return Flux.defer(() -> {
      AtomicReference<T> held = new AtomicReference<>();
      return body.<T>handle((item, sink) -> {
            T previous = held.getAndSet(item);
            if (previous != null) {
              sink.next(previous);
            }
          })
          .concatWith(Mono.defer(before).then(Mono.fromSupplier(() -> held.getAndSet(null))))
          .doFinally(signal -> {
            T left = held.getAndSet(null);
            if (left != null) {
              release.accept(left); // cancelled or failed before the held element went out
            }
          });
    });
  }
}

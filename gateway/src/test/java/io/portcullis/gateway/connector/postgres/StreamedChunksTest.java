package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * A streamed read's chunks: the page limit and the "no row for this long" guard act per chunk, so the limit may fall
 * inside one, and a read that stalls must still fail after the chunks it sent.
 */
class StreamedChunksTest {

  static final Duration LONG = Duration.ofSeconds(30);

  @Test
  void theLimitFallingInsideAChunkCutsThatChunkAndTheRowPastItIsConsumedNotCancelled() {
    AtomicBoolean cancelled = new AtomicBoolean();
    // 1,000 rows and the one more the SQL LIMIT fetches: the cut falls 232 rows into the fourth chunk
    Flux<Integer> rows = Flux.range(1, 1001).doOnCancel(() -> cancelled.set(true));
    List<List<Integer>> chunks = PostgresReader.chunks(rows, 1000, LONG).collectList().block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(256, 256, 256, 232);
    assertThat(chunks.get(3)).last().isEqualTo(1000);
    assertThat(cancelled).as("the query ran to its end").isFalse();
  }

  @Test
  void aRowPastTheLimitAloneInItsChunkSendsNoEmptyChunk() {
    List<List<Integer>> chunks = PostgresReader.chunks(Flux.range(1, 513), 512, LONG).collectList()
        .block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(256, 256);
  }

  @Test
  void aResultWithinTheLimitIsSentWhole() {
    List<List<Integer>> chunks = PostgresReader.chunks(Flux.range(1, 300), 5000, LONG).collectList()
        .block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(256, 44);
  }

  @Test
  void aReadThatStallsMidStreamFailsAfterTheChunksItSentAndIsCancelled() {
    AtomicBoolean cancelled = new AtomicBoolean();
    Flux<Integer> stalls = Flux.range(1, 300).concatWith(Flux.<Integer>never()).doOnCancel(() -> cancelled.set(true));

    StepVerifier.create(PostgresReader.chunks(stalls, 5000, Duration.ofMillis(80)))
        .assertNext(chunk -> assertThat(chunk).hasSize(256))
        .assertNext(chunk -> assertThat(chunk).hasSize(44)) // the part-full chunk, after CHUNK_WAIT
        .expectError(TimeoutException.class)
        .verify(Duration.ofSeconds(5));
    assertThat(cancelled).isTrue();
  }

  @Test
  void rowsTricklingSlowerThanTheChunkWaitButWithinTheTimeoutOutliveIt() {
    // 30 rows 10 ms apart, each going out in a part-full chunk: 300 ms in all, never 100 ms without one
    Flux<Long> trickle = Flux.interval(Duration.ofMillis(10)).take(30);

    StepVerifier.create(PostgresReader.chunks(trickle, 5000, Duration.ofMillis(100)).flatMapIterable(chunk -> chunk))
        .expectNextCount(30)
        .verifyComplete();
  }
}

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
  static final int C = PostgresReader.ROWS_PER_CHUNK;

  @Test
  void theLimitFallingInsideAChunkCutsThatChunkAndTheRowPastItIsConsumedNotCancelled() {
    AtomicBoolean cancelled = new AtomicBoolean();
    // the limit's rows and the one more the SQL LIMIT fetches: the cut falls 232 rows into the fourth chunk
    int limit = 3 * C + 232;
    Flux<Integer> rows = Flux.range(1, limit + 1).doOnCancel(() -> cancelled.set(true));
    List<List<Integer>> chunks = PostgresReader.chunks(rows, limit, LONG).collectList().block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(C, C, C, 232);
    assertThat(chunks.get(3)).last().isEqualTo(limit);
    assertThat(cancelled).as("the query ran to its end").isFalse();
  }

  @Test
  void aRowPastTheLimitAloneInItsChunkSendsNoEmptyChunk() {
    List<List<Integer>> chunks = PostgresReader.chunks(Flux.range(1, 2 * C + 1), 2 * C, LONG).collectList()
        .block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(C, C);
  }

  @Test
  void aResultWithinTheLimitIsSentWhole() {
    List<List<Integer>> chunks = PostgresReader.chunks(Flux.range(1, C + 44), 5 * C, LONG).collectList()
        .block(Duration.ofSeconds(5));

    assertThat(chunks).extracting(List::size).containsExactly(C, 44);
  }

  @Test
  void aReadThatStallsMidStreamFailsAfterTheChunksItSentAndIsCancelled() {
    AtomicBoolean cancelled = new AtomicBoolean();
    Flux<Integer> stalls = Flux.range(1, C + 44).concatWith(Flux.<Integer>never()).doOnCancel(() -> cancelled.set(true));

    StepVerifier.create(PostgresReader.chunks(stalls, 5 * C, Duration.ofMillis(400)))
        .assertNext(chunk -> assertThat(chunk).hasSize(C))
        .assertNext(chunk -> assertThat(chunk).hasSize(44)) // the part-full chunk, after CHUNK_WAIT
        .expectError(TimeoutException.class)
        .verify(Duration.ofSeconds(5));
    assertThat(cancelled).isTrue();
  }

  @Test
  void rowsTricklingSlowerThanTheChunkWaitButWithinTheTimeoutOutliveIt() {
    // 120 rows 10 ms apart, each going out in a part-full chunk: 1.2 s in all, three times the timeout, and never
    // 400 ms without one (a margin a busy CI machine does not eat)
    Flux<Long> trickle = Flux.interval(Duration.ofMillis(10)).take(120);

    StepVerifier.create(PostgresReader.chunks(trickle, 5000, Duration.ofMillis(400)).flatMapIterable(chunk -> chunk))
        .expectNextCount(120)
        .verifyComplete();
  }
}

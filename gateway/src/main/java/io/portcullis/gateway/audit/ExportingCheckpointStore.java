package io.portcullis.gateway.audit;

import io.portcullis.audit.AuditCheckpoint;
import io.portcullis.audit.CheckpointFile;
import io.portcullis.audit.CheckpointStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Checkpoints in PostgreSQL and, after each save, one JSON line in an append-only file: the copy an external store
 * (a log shipper, object storage with retention) takes away, so that someone who can rewrite the database — both the
 * events and the checkpoint table — still cannot make a truncated chain verify against it. Reads go to the database.
 */
final class ExportingCheckpointStore implements CheckpointStore {

  private final CheckpointStore store;
  private final Path file;

  ExportingCheckpointStore(CheckpointStore store, Path file) {
    this.store = Objects.requireNonNull(store, "store");
    this.file = Objects.requireNonNull(file, "file");
  }

  @Override
  public Mono<Void> save(AuditCheckpoint checkpoint) {
    // the database first: a line in the file always names a checkpoint the table holds (or held)
    return store.save(checkpoint)
        .then(Mono.fromRunnable(() -> append(checkpoint)).subscribeOn(Schedulers.boundedElastic()))
        .then();
  }

  private void append(AuditCheckpoint cp) {
    byte[] bytes = (CheckpointFile.line(cp) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(false); // a checkpoint every minute at most by default: the fsync is cheap insurance
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append the checkpoint at seq " + cp.seq() + " to " + file, e);
    }
  }

  @Override
  public Mono<AuditCheckpoint> latest(String chainId) {
    return store.latest(chainId);
  }

  @Override
  public Flux<AuditCheckpoint> find(String chainId, long fromSeq, long toSeq) {
    return store.find(chainId, fromSeq, toSeq);
  }
}

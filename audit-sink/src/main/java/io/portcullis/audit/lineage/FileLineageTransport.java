package io.portcullis.audit.lineage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Appends each event as one JSON line to a file, on a dedicated single thread (file I/O, in order). */
public final class FileLineageTransport implements LineageTransport {

  private final Path file;
  private final Scheduler scheduler = Schedulers.newSingle("portcullis-lineage-file", true);

  public FileLineageTransport(Path file) {
    this.file = Objects.requireNonNull(file, "file");
  }

  @Override
  public Mono<Void> send(String job, String json) {
    return Mono.<Void>fromRunnable(() -> {
      try {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(file, json.replace('\n', ' ') + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).subscribeOn(scheduler);
  }

  @Override
  public String name() {
    return "file:" + file;
  }

  @Override
  public void close() {
    scheduler.dispose();
  }
}

package io.portcullis.audit;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Appends events as canonical JSON lines to {@code <dir>/<prefix>.jsonl}, fsync'd per batch, on a dedicated
 * single-thread scheduler (file I/O never on a caller's thread, and writes stay in order). When the file exceeds
 * {@code maxBytes} it is renamed to {@code <prefix>-<UTC time>-<seq>.jsonl} and a new one started.
 *
 * <p>At-least-once: a batch replayed after a timeout may appear twice; readers de-duplicate by {@code event_id}
 * (the verifier accepts an identical repeat).
 */
public final class JsonLinesAuditSink implements AuditSink, AutoCloseable {

  private static final DateTimeFormatter ROTATED = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
      .withZone(ZoneOffset.UTC);

  private final Path directory;
  private final String prefix;
  private final Path current;
  private final long maxBytes;
  private final Clock clock;
  private final Scheduler scheduler;
  private FileChannel channel;

  public JsonLinesAuditSink(Path directory, String prefix, long maxBytes) {
    this(directory, prefix, maxBytes, Clock.systemUTC());
  }

  JsonLinesAuditSink(Path directory, String prefix, long maxBytes, Clock clock) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    if (maxBytes < 1024) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 1024)");
    }
    this.maxBytes = maxBytes;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.current = directory.resolve(prefix + ".jsonl");
    this.scheduler = Schedulers.newSingle("audit-jsonl-" + prefix, true);
  }

  @Override
  public String name() {
    return "jsonl:" + current;
  }

  @Override
  public Mono<Void> write(List<AuditEvent> batch) {
    Objects.requireNonNull(batch, "batch");
    if (batch.isEmpty()) {
      return Mono.empty();
    }
    return Mono.<Void>fromCallable(() -> {
      append(batch);
      return null;
    }).subscribeOn(scheduler);
  }

  private void append(List<AuditEvent> batch) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * 512);
    for (AuditEvent e : batch) {
      out.write(AuditJson.toJsonBytes(e));
      out.write('\n');
    }
    if (channel == null) {
      Files.createDirectories(directory);
      channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
    }
    if (channel.size() > 0 && channel.size() + out.size() > maxBytes) {
      rotate();
    }
    ByteBuffer buf = ByteBuffer.wrap(out.toByteArray());
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
    channel.force(false);
  }

  private void rotate() throws IOException {
    channel.close();
    channel = null;
    // A fixed-width sequence keeps name order equal to rotation order when two rotations share a timestamp
    // (a bare "-1" suffix would sort before the unsuffixed name: '-' < '.').
    String stamp = ROTATED.format(clock.instant());
    Path target = directory.resolve(prefix + "-" + stamp + "-0000.jsonl");
    for (int n = 1; Files.exists(target); n++) {
      target = directory.resolve(prefix + "-" + stamp + "-" + String.format("%04d", n) + ".jsonl");
    }
    Files.move(current, target, StandardCopyOption.ATOMIC_MOVE);
    channel = FileChannel.open(current, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
  }

  /** The files of this sink, oldest first: rotated ones by name (their UTC time), then the current one. */
  public List<Path> files() throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(directory)) {
      try (Stream<Path> s = Files.list(directory)) {
        s.filter(p -> {
          String n = p.getFileName().toString();
          return n.startsWith(prefix + "-") && n.endsWith(".jsonl");
        }).sorted().forEach(files::add);
      }
    }
    if (Files.exists(current)) {
      files.add(current);
    }
    return files;
  }

  /** Every event in the files, in file and line order (blocking: for tools and tests). */
  public static List<AuditEvent> readAll(List<Path> files) {
    List<AuditEvent> events = new ArrayList<>();
    for (Path f : files) {
      try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          if (!line.isBlank()) {
            events.add(AuditJson.fromJson(line));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return events;
  }

  @Override
  public void close() {
    Mono.fromRunnable(() -> {
      try {
        if (channel != null) {
          channel.close();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).subscribeOn(scheduler).block();
    scheduler.dispose();
  }
}

package io.portcullis.audit;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The write-ahead journal every sealed event passes through before its request's response is allowed to complete:
 * canonical JSON lines, each appended with one {@code write()} by the thread that sealed it, under the pipeline's seal
 * lock. A {@code write()} is in the kernel's page cache when it returns, so it survives the death of the process
 * (kill -9, OOM kill) without an fsync per request; {@link #sync()} forces it to disk once per sink batch (drain
 * thread), which bounds what a power loss can take to the events since the last batch. Nothing on the appending side
 * forces or waits for the disk: a rotated-out segment is forced by the next {@link #sync()}.
 *
 * <p>An {@code .acked} marker holds the highest seq known to be in the sink or the fsync'd spill file (written with
 * {@code pwrite}, no fsync: after a power loss a stale marker only means more replays, which the sinks skip by
 * event_id). At start, the events after the marker are recovered and replayed; the journal's last event is also the
 * chain head, so a restart continues the chain for sinks that cannot tell their head (Kafka, files).
 *
 * <p>Two segments: when the current one passes {@code rotateBytes} and every event of the previous one is acked, the
 * current one becomes the previous one (an atomic rename) and a new one starts. Nothing is ever copied.
 */
final class Journal implements Closeable {

  private static final int MARKER_WIDTH = 20;

  private final Path current;
  private final Path previous;
  private final Path marker;
  private final long rotateBytes;

  // appending threads, under the pipeline's seal lock (and start-up before any)
  private FileChannel channel;
  private ByteBuffer one = ByteBuffer.allocateDirect(4096); // direct: write() copies a heap buffer first
  private long size;
  private long currentLastSeq;
  private long previousLastSeq;

  // drain thread
  private FileChannel markerChannel;
  private final ByteBuffer markerBuffer = ByteBuffer.allocate(MARKER_WIDTH + 1);
  private volatile long acked;
  private volatile FileChannel syncTarget;
  /** Segments rotated out and not yet forced: the drain thread forces and closes them. */
  private final ConcurrentLinkedQueue<FileChannel> retired = new ConcurrentLinkedQueue<>();

  Journal(Path directory, String chainId, long rotateBytes) {
    this.current = directory.resolve("audit-journal-" + chainId + ".jsonl");
    this.previous = directory.resolve("audit-journal-" + chainId + ".prev.jsonl");
    this.marker = directory.resolve("audit-journal-" + chainId + ".acked");
    this.rotateBytes = rotateBytes;
  }

  Path path() {
    return current;
  }

  /** What a start finds: the last journaled event (the chain head) and the events after the acked marker. */
  record Recovered(AuditEvent last, long acked, List<AuditEvent> unacked) {
  }

  /** Opens (creating) the journal; reads the previous and current segments, cutting a torn last line. */
  Recovered open() throws IOException {
    Files.createDirectories(current.toAbsolutePath().getParent());
    markerChannel = FileChannel.open(marker, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    long ackedSeq = readMarker();
    acked = ackedSeq;
    List<AuditEvent> unacked = new ArrayList<>();
    AuditEvent last = null;
    if (Files.exists(previous)) {
      try (FileChannel prev = FileChannel.open(previous, StandardOpenOption.READ)) {
        AuditEvent l = read(prev, prev.size(), ackedSeq, unacked);
        if (l != null) {
          last = l;
          previousLastSeq = l.seq();
        }
      }
    }
    channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    long end = channel.size();
    while (end > 0 && byteAt(channel, end - 1) != '\n') {
      end--;
    }
    if (end != channel.size()) {
      channel.truncate(end);
    }
    AuditEvent l = read(channel, end, ackedSeq, unacked);
    if (l != null) {
      last = l;
      currentLastSeq = l.seq();
    }
    size = end;
    syncTarget = channel;
    return new Recovered(last, ackedSeq, unacked);
  }

  /** Appends one event's canonical JSON (no newline) with one write; {@code seq}: the event's. */
  void append(byte[] line, long seq) throws IOException {
    if (size >= rotateBytes && previousLastSeq <= acked) {
      rotate();
    }
    int n = line.length + 1;
    if (one.capacity() < n) {
      one = ByteBuffer.allocateDirect(Math.max(n, one.capacity() * 2));
    }
    ByteBuffer buf = one.clear();
    buf.put(line).put((byte) '\n').flip();
    long position = size;
    while (buf.hasRemaining()) {
      position += channel.write(buf, position);
    }
    size = position;
    currentLastSeq = seq;
  }

  private void rotate() throws IOException {
    Files.move(current, previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    FileChannel old = channel;
    channel = FileChannel.open(current, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    retired.add(old); // before the new target: a sync that sees the new one forces the old one too
    syncTarget = channel;
    previousLastSeq = currentLastSeq;
    size = 0;
  }

  /** Everything up to {@code seq} is in the sink or the fsync'd spill file. Drain thread. */
  void acked(long seq) throws IOException {
    if (seq <= acked) {
      return;
    }
    acked = seq;
    byte[] digits = String.format("%0" + MARKER_WIDTH + "d\n", seq).getBytes(StandardCharsets.US_ASCII);
    markerBuffer.clear();
    markerBuffer.put(digits).flip();
    while (markerBuffer.hasRemaining()) {
      markerChannel.write(markerBuffer, markerBuffer.position());
    }
  }

  /** Forces the journal to disk (the power-loss bound), rotated-out segments first. Drain thread. */
  void sync() throws IOException {
    forceRetired();
    syncTarget.force(false);
  }

  private void forceRetired() throws IOException {
    FileChannel old;
    while ((old = retired.peek()) != null) {
      old.force(false);
      old.close();
      retired.poll();
    }
  }

  long ackedSeq() {
    return acked;
  }

  @Override
  public void close() throws IOException {
    try {
      forceRetired();
      if (channel != null) {
        channel.force(false);
        channel.close();
      }
    } finally {
      if (markerChannel != null) {
        markerChannel.close();
      }
    }
  }

  private long readMarker() throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(MARKER_WIDTH + 1);
    markerChannel.read(buf, 0);
    String text = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
    if (text.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException torn) {
      return 0; // replays more; the sinks skip what they have
    }
  }

  /** Reads the complete lines before {@code end}; collects those after {@code ackedSeq}; returns the last. */
  private static AuditEvent read(FileChannel ch, long end, long ackedSeq, List<AuditEvent> unacked)
      throws IOException {
    AuditEvent last = null;
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
    long position = 0;
    while (position < end) {
      buf.clear();
      if (end - position < buf.capacity()) {
        buf.limit((int) (end - position));
      }
      int n = ch.read(buf, position);
      if (n <= 0) {
        break;
      }
      byte[] block = buf.array();
      for (int i = 0; i < n; i++) {
        if (block[i] == '\n') {
          AuditEvent e = AuditJson.fromJson(line.toByteArray());
          line.reset();
          last = e;
          if (e.seq() != null && e.seq() > ackedSeq) {
            unacked.add(e);
          }
        } else {
          line.write(block[i]);
        }
      }
      position += n;
    }
    return last;
  }

  private static byte byteAt(FileChannel ch, long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    ch.read(one, position);
    return one.get(0);
  }
}

package io.portcullis.audit;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The write-ahead journal every sealed event passes through before its request's response is allowed to complete:
 * canonical JSON lines, each copied by the thread that sealed it, under the pipeline's seal lock, into a
 * memory-mapped (shared) region of the current segment. A store into a shared mapping is in the kernel's page cache
 * at once, so it survives the death of the process (kill -9, OOM kill) with neither a system call nor an fsync per
 * request: the event loops that seal never do file I/O. {@link #sync()} forces the segment to disk once per sink
 * batch (drain thread), which bounds what a power loss can take to the events since the last batch.
 *
 * <p>A segment's file is longer than its lines (the mapped region's zeros, sparse on disk); a reader stops at the first
 * NUL, which JSON text never holds, and cuts a line without its newline (torn by a death mid-copy: the newline is
 * stored last). Closing truncates the file to its lines.
 *
 * <p>An {@code .acked} marker holds the highest seq known to be in the sink or the fsync'd spill file (written with
 * {@code pwrite}, no fsync: after a power loss a stale marker only means more replays, which the sinks skip by
 * event_id). At start, the events after the marker are recovered and replayed; the journal's last event is also the
 * chain head, so a restart continues the chain for sinks that cannot tell their head (Kafka, files).
 *
 * <p>Two segments: once the current one passes {@code rotateBytes} and every event of the previous one is acked, the
 * drain thread makes the current one the previous one (an atomic rename) and maps a new one; it prepares the new file
 * outside the lock, so the appenders wait only for two renames. Nothing is ever copied. An append that finds its
 * region full (the previous segment still unacked, e.g. while the sink and the spill file both fail) maps the next
 * region of the same file itself: the segment grows instead of refusing the event.
 */
final class Journal implements Closeable {

  private static final int MARKER_WIDTH = 20;

  private final Path current;
  private final Path previous;
  private final Path next;
  private final Path marker;
  private final long rotateBytes;
  private final long regionBytes;
  private final Object lock;

  // under lock (and start-up before any append)
  private FileChannel channel;
  private MappedByteBuffer region;
  /** Where the lines end in the current segment's file. */
  private long size;
  private long currentLastSeq;
  private long previousLastSeq;

  // drain thread
  private FileChannel markerChannel;
  private final ByteBuffer markerBuffer = ByteBuffer.allocate(MARKER_WIDTH + 1);
  private volatile long acked;
  private volatile FileChannel syncTarget;

  /**
   * @param lock what appenders hold around {@link #append} (the pipeline's seal lock); the rotation takes it too
   */
  Journal(Path directory, String chainId, long rotateBytes, Object lock) {
    this.current = directory.resolve("audit-journal-" + chainId + ".jsonl");
    this.previous = directory.resolve("audit-journal-" + chainId + ".prev.jsonl");
    this.next = directory.resolve("audit-journal-" + chainId + ".next.jsonl");
    this.marker = directory.resolve("audit-journal-" + chainId + ".acked");
    this.rotateBytes = rotateBytes;
    // room past the rotation point, so the drain thread has time to rotate before an append must map more itself
    this.regionBytes = rotateBytes + Math.max(rotateBytes, 1 << 20);
    this.lock = lock;
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
    Files.deleteIfExists(next); // a rotation that died before its renames
    markerChannel = FileChannel.open(marker, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    long ackedSeq = readMarker();
    acked = ackedSeq;
    List<AuditEvent> unacked = new ArrayList<>();
    AuditEvent last = null;
    if (Files.exists(previous)) {
      try (FileChannel prev = FileChannel.open(previous, StandardOpenOption.READ)) {
        Lines l = read(prev, ackedSeq, unacked);
        if (l.last() != null) {
          last = l.last();
          previousLastSeq = l.last().seq();
        }
      }
    }
    channel = FileChannel.open(current, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    Lines l = read(channel, ackedSeq, unacked);
    if (l.last() != null) {
      last = l.last();
      currentLastSeq = l.last().seq();
    }
    channel.truncate(l.end());
    size = l.end();
    region = channel.map(FileChannel.MapMode.READ_WRITE, size, regionBytes);
    syncTarget = channel;
    return new Recovered(last, ackedSeq, unacked);
  }

  /** Appends one event's canonical JSON (no newline); {@code seq}: the event's. The caller holds the lock. */
  void append(byte[] line, long seq) throws IOException {
    int n = line.length + 1;
    if (region.remaining() < n) {
      region = channel.map(FileChannel.MapMode.READ_WRITE, size, Math.max(regionBytes, n));
    }
    int at = region.position();
    try {
      region.put(line);
      region.put((byte) '\n'); // last: a line is whole once its newline is there
    } catch (RuntimeException | InternalError fault) { // InternalError: the mapping's page could not be had (disk full)
      region.position(at); // the next line overwrites the torn one
      throw new IOException("journal region not writable", fault);
    }
    size += n;
    currentLastSeq = seq;
  }

  /**
   * Rotates the segments once the current one passes {@code rotateBytes} and the previous one is acked: the new file
   * is opened and mapped before taking the lock, the renames are made under it, the old segment is cut to its lines,
   * forced and closed after it. Drain thread.
   */
  void rotateIfDue() throws IOException {
    synchronized (lock) {
      if (size < rotateBytes || previousLastSeq > acked) {
        return;
      }
    }
    FileChannel fresh = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    MappedByteBuffer freshRegion;
    FileChannel old;
    long oldSize;
    try {
      freshRegion = fresh.map(FileChannel.MapMode.READ_WRITE, 0, regionBytes);
      synchronized (lock) {
        Files.move(current, previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(next, current, StandardCopyOption.ATOMIC_MOVE);
        old = channel;
        oldSize = size;
        channel = fresh;
        region = freshRegion;
        syncTarget = fresh;
        previousLastSeq = currentLastSeq;
        size = 0;
      }
    } catch (IOException | RuntimeException e) {
      fresh.close();
      Files.deleteIfExists(next);
      throw e;
    }
    try (old) {
      old.truncate(oldSize);
      old.force(false);
    }
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

  /**
   * Forces the current segment to disk (the power-loss bound): an fsync writes back the pages the mapping dirtied as
   * any others. Drain thread, which also rotates, so the target is never closed under it.
   */
  void sync() throws IOException {
    syncTarget.force(false);
  }

  /** Cuts the current segment to its lines, forces and closes it. No append may follow. */
  @Override
  public void close() throws IOException {
    try {
      if (channel != null) {
        synchronized (lock) {
          region = null;
          channel.truncate(size);
          channel.force(false);
          channel.close();
        }
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

  /** The whole lines of a segment: the last event, and where the last newline ends. */
  private record Lines(AuditEvent last, long end) {
  }

  /** Reads the whole lines up to the first NUL or the end; collects those after {@code ackedSeq}. */
  private static Lines read(FileChannel ch, long ackedSeq, List<AuditEvent> unacked) throws IOException {
    AuditEvent last = null;
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
    long position = 0;
    long end = 0;
    long length = ch.size();
    while (position < length) {
      buf.clear();
      int n = ch.read(buf, position);
      if (n <= 0) {
        break;
      }
      byte[] block = buf.array();
      for (int i = 0; i < n; i++) {
        byte b = block[i];
        if (b == 0) {
          return new Lines(last, end); // the mapped region's zeros: the lines end here
        }
        if (b == '\n') {
          AuditEvent e = AuditJson.fromJson(line.toByteArray());
          line.reset();
          last = e;
          end = position + i + 1;
          if (e.seq() != null && e.seq() > ackedSeq) {
            unacked.add(e);
          }
        } else {
          line.write(b);
        }
      }
      position += n;
    }
    return new Lines(last, end);
  }
}

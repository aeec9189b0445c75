package io.portcullis.audit;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The local write-ahead file where batches go while the sink cannot take them: canonical JSON lines, appended and
 * fsync'd per batch, read back from the front in order and truncated once fully replayed. Used by one thread at a
 * time (the pipeline's drain thread, or its start-up before that thread runs).
 *
 * <p>A crash can leave a torn last line (the batch was never acknowledged): {@link #open()} cuts it off. A crash
 * mid-replay replays from the start again, which the sinks tolerate (events are de-duplicated by event_id).
 *
 * <p>Before each append it checks that its path still names the open file: a file deleted or replaced under a running
 * gateway would take the fsync'd events with it at the next start, so the unreplayed part is copied to a new file at
 * the path, or, when that cannot be created, the append fails and the pipeline holds the batch (tier 2 fails closed).
 */
final class SpillFile implements Closeable {

  private static final int READ_BLOCK = 1 << 16;

  private final Path path;
  private FileChannel channel;
  private long replayOffset;
  private long peekEnd;
  private int peekCount;
  private long pending;
  private Object fileKey;

  SpillFile(Path path) {
    this.path = path;
  }

  Path path() {
    return path;
  }

  /** Opens (creating) the file and returns its last complete event, or null when it is empty. */
  AuditEvent open() throws IOException {
    Files.createDirectories(path.toAbsolutePath().getParent());
    channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    fileKey = keyOf(path);
    long size = channel.size();
    long end = size;
    // cut a torn tail: everything after the last newline
    while (end > 0 && byteAt(end - 1) != '\n') {
      end--;
    }
    if (end != size) {
      channel.truncate(end);
      channel.force(true);
    }
    replayOffset = 0;
    pending = 0;
    AuditEvent last = null;
    long offset = 0;
    while (offset < end) {
      List<byte[]> lines = new ArrayList<>();
      offset = readLines(offset, 4096, lines);
      pending += lines.size();
      if (!lines.isEmpty()) {
        last = AuditJson.fromJson(lines.get(lines.size() - 1));
      }
    }
    return last;
  }

  long pending() {
    return pending;
  }

  /** Appends the batch and forces it to disk before returning. */
  void append(List<AuditEvent> batch) throws IOException {
    ensureLinked();
    ByteArrayOutputStream out = new ByteArrayOutputStream(batch.size() * 512);
    for (AuditEvent e : batch) {
      out.write(AuditJson.toJsonBytes(e));
      out.write('\n');
    }
    ByteBuffer buf = ByteBuffer.wrap(out.toByteArray());
    long position = channel.size();
    while (buf.hasRemaining()) {
      position += channel.write(buf, position);
    }
    channel.force(false);
    pending += batch.size();
  }

  /** Up to {@code max} events from the replay position, without consuming them. */
  List<AuditEvent> peek(int max) throws IOException {
    List<byte[]> lines = new ArrayList<>();
    peekEnd = readLines(replayOffset, max, lines);
    peekCount = lines.size();
    List<AuditEvent> events = new ArrayList<>(lines.size());
    for (byte[] line : lines) {
      events.add(AuditJson.fromJson(line));
    }
    return events;
  }

  /** Marks the last {@link #peek} as written to the sink; empties the file once everything is. */
  void consumePeeked() throws IOException {
    replayOffset = peekEnd;
    pending -= peekCount;
    peekCount = 0;
    if (replayOffset >= channel.size()) {
      channel.truncate(0);
      channel.force(true);
      replayOffset = 0;
      peekEnd = 0;
      pending = 0;
    }
  }

  /** Re-creates the file at {@link #path} with the unreplayed events when the open one is no longer there. */
  private void ensureLinked() throws IOException {
    Object key;
    try {
      key = keyOf(path);
    } catch (IOException gone) {
      key = null;
    }
    if (key != null && Objects.equals(key, fileKey)) {
      return;
    }
    Files.createDirectories(path.toAbsolutePath().getParent());
    Path fresh = path.resolveSibling(path.getFileName() + ".relink");
    try (FileChannel out = FileChannel.open(fresh, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      long size = channel.size();
      long position = replayOffset;
      while (position < size) {
        position += channel.transferTo(position, size - position, out);
      }
      out.force(true);
    }
    Files.move(fresh, path, StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    FileChannel old = channel;
    channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    fileKey = keyOf(path);
    replayOffset = 0;
    peekEnd = 0;
    peekCount = 0;
    old.close();
  }

  private static Object keyOf(Path p) throws IOException {
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
    // fileKey is null on file systems without inode-like keys: fall back to the creation time
    return a.fileKey() != null ? a.fileKey() : a.creationTime();
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
    }
  }

  private byte byteAt(long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    channel.read(one, position);
    return one.get(0);
  }

  /** Reads up to {@code max} complete lines starting at {@code from}; returns the offset after the last one read. */
  private long readLines(long from, int max, List<byte[]> lines) throws IOException {
    long size = channel.size();
    long position = from;
    ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
    ByteBuffer buf = ByteBuffer.allocate(READ_BLOCK);
    long consumed = from;
    while (position < size && lines.size() < max) {
      buf.clear();
      int n = channel.read(buf, position);
      if (n <= 0) {
        break;
      }
      byte[] block = buf.array();
      for (int i = 0; i < n && lines.size() < max; i++) {
        if (block[i] == '\n') {
          lines.add(line.toByteArray());
          line.reset();
          consumed = position + i + 1;
        } else {
          line.write(block[i]);
        }
      }
      position += n;
    }
    return consumed;
  }
}

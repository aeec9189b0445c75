package io.portcullis.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Checkpoints as JSON lines ({@code chain_id, seq, head_hash, count, time, kid, jws}): the export a gateway appends to
 * for an external store, and what {@code audit-verify --checkpoints} reads back. Verifying against the exported copy
 * catches what the database's own checkpoint table cannot: someone who deleted the newest events and the checkpoints
 * that covered them.
 */
public final class CheckpointFile {

  private static final List<String> FIELDS = List.of("chain_id", "seq", "head_hash", "count", "time", "jws");

  private CheckpointFile() {}

  /** One line, without the newline. */
  public static String line(AuditCheckpoint cp) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("chain_id", cp.chainId());
    m.put("seq", cp.seq());
    m.put("head_hash", cp.headHash());
    m.put("count", cp.count());
    m.put("time", cp.time().toString());
    m.put("kid", cp.kid());
    m.put("jws", cp.jws());
    return AuditJson.mapper().writeValueAsString(m);
  }

  /**
   * A read-only store over the file's checkpoints. A seq written twice (an export retried after a failure) keeps the
   * later line; the signature decides whether either is genuine.
   */
  public static CheckpointStore read(Path file) throws IOException {
    Map<String, TreeMap<Long, AuditCheckpoint>> byChain = new LinkedHashMap<>();
    int n = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      AuditCheckpoint cp;
      try {
        JsonNode j = AuditJson.mapper().readTree(line);
        for (String field : FIELDS) {
          if (!j.hasNonNull(field)) {
            throw new IllegalArgumentException("no " + field);
          }
        }
        cp = new AuditCheckpoint(j.get("chain_id").asString(), j.get("seq").asLong(), j.get("head_hash").asString(),
            j.get("count").asLong(), Instant.parse(j.get("time").asString()),
            j.hasNonNull("kid") ? j.get("kid").asString() : null, j.get("jws").asString());
      } catch (JacksonException | DateTimeParseException | IllegalArgumentException e) {
        throw new IOException(file + ":" + n + ": not a checkpoint line (" + e.getMessage() + ")", e);
      }
      byChain.computeIfAbsent(cp.chainId(), k -> new TreeMap<>()).put(cp.seq(), cp);
    }
    return new ReadOnly(byChain);
  }

  private record ReadOnly(Map<String, TreeMap<Long, AuditCheckpoint>> byChain) implements CheckpointStore {

    @Override
    public Mono<Void> save(AuditCheckpoint checkpoint) {
      return Mono.error(new UnsupportedOperationException("a checkpoint file read for verification is read-only"));
    }

    @Override
    public Mono<AuditCheckpoint> latest(String chainId) {
      TreeMap<Long, AuditCheckpoint> m = byChain.get(Objects.requireNonNull(chainId, "chainId"));
      return m == null || m.isEmpty() ? Mono.empty() : Mono.just(m.lastEntry().getValue());
    }

    @Override
    public Flux<AuditCheckpoint> find(String chainId, long fromSeq, long toSeq) {
      TreeMap<Long, AuditCheckpoint> m = byChain.get(Objects.requireNonNull(chainId, "chainId"));
      if (m == null || fromSeq > toSeq) {
        return Flux.empty();
      }
      List<AuditCheckpoint> out = new ArrayList<>(m.subMap(fromSeq, true, toSeq, true).values());
      out.sort(Comparator.comparingLong(AuditCheckpoint::seq));
      return Flux.fromIterable(out);
    }
  }
}

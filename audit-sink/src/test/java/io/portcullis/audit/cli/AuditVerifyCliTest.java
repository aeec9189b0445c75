package io.portcullis.audit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.sun.net.httpserver.HttpServer;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditSchema;
import io.portcullis.audit.CheckpointFile;
import io.portcullis.audit.CheckpointSigner;
import io.portcullis.audit.Outcome;
import io.portcullis.audit.PostgresAuditSink;
import io.portcullis.audit.PostgresCheckpointStore;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class AuditVerifyCliTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ECKey key;

  @BeforeAll
  static void chain(@TempDir Path dir) throws Exception {
    key = new ECKeyGenerator(Curve.P_256).keyID("cli-1").generate();
    ConnectionFactory cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditSchema.apply(cf).block(Duration.ofSeconds(30));
    AuditPipeline p = AuditPipeline.builder(new PostgresAuditSink(cf), "gw-cli", dir)
        .checkpoints(new CheckpointSigner(key), new PostgresCheckpointStore(cf), 5, Duration.ofHours(1)).build();
    p.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 12; i++) {
      p.emit(AuditEvent.builder().appId("app").outcome(Outcome.ALLOWED).rows((long) i).build());
    }
    p.close();
  }

  @Test
  void reportsAnIntactChainWithExitZero(@TempDir Path dir) throws Exception {
    Path jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString());
    String jdbc = PG.jdbcUrl() + "?user=" + PG.username() + "&password=" + PG.password();

    Result r = run("--jwks", jwks.toString(), jdbc, "gw-cli");

    assertThat(r.code).as(r.err).isZero();
    assertThat(r.out).startsWith("OK chain gw-cli seq 1..end: 12 events, 1 checkpoints").doesNotContain("NOT checked");
  }

  @Test
  void fetchesTheKeysTheGatewayPublishes() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    server.createContext("/admin/signing-keys", exchange -> {
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, jwks.length);
      exchange.getResponseBody().write(jwks);
      exchange.close();
    });
    server.start();
    try {
      Result r = run("--jwks", "http://127.0.0.1:" + server.getAddress().getPort() + "/admin/signing-keys",
          PG.r2dbcUrl(), "gw-cli");

      assertThat(r.code).as(r.err).isZero();
      assertThat(r.out).startsWith("OK chain gw-cli seq 1..end: 12 events, 1 checkpoints, 1 matched (last at seq 12)")
          .doesNotContain("NOT checked");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void anExportedCheckpointFileCatchesATailDeletedWithItsCheckpoints(@TempDir Path dir) throws Exception {
    ConnectionFactory cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditPipeline p = AuditPipeline.builder(new PostgresAuditSink(cf), "gw-export", dir)
        .checkpoints(new CheckpointSigner(key), new PostgresCheckpointStore(cf), 5, Duration.ofHours(1)).build();
    p.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 12; i++) {
      p.emit(AuditEvent.builder().appId("app").outcome(Outcome.ALLOWED).rows((long) i).build());
      if (i % 4 == 3) {
        p.flush().block(Duration.ofSeconds(10)); // batches of 4: checkpoints at seq 8 and 12
      }
    }
    p.close();
    Path export = dir.resolve("checkpoints.jsonl");
    List<String> lines = new PostgresCheckpointStore(cf).find("gw-export", 1, Long.MAX_VALUE)
        .map(CheckpointFile::line).collectList().block(Duration.ofSeconds(10));
    assertThat(lines).hasSize(2);
    Files.write(export, lines);
    Path jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString());

    // an insider deletes the newest events and the checkpoint that covered them: the table agrees with itself
    PG.execute("SET session_replication_role = replica",
        "DELETE FROM portcullis.audit_events WHERE chain_id = 'gw-export' AND seq > 9",
        "DELETE FROM portcullis.audit_checkpoints WHERE chain_id = 'gw-export' AND seq > 8");
    Result fromTable = run("--jwks", jwks.toString(), PG.r2dbcUrl(), "gw-export");
    assertThat(fromTable.code).as(fromTable.out + fromTable.err).isZero();

    Result fromExport = run("--jwks", jwks.toString(), "--checkpoints", export.toString(), PG.r2dbcUrl(), "gw-export");
    assertThat(fromExport.code).as(fromExport.err).isEqualTo(1);
    assertThat(fromExport.out).startsWith("FAILED chain gw-export seq 1..end: REMOVED at seq 10")
        .contains("a checkpoint signed seq 12");
  }

  @Test
  void reportsTamperingWithExitOne() {
    PG.execute("SET session_replication_role = replica",
        "UPDATE portcullis.audit_events SET \"rows\" = 1000 WHERE chain_id = 'gw-cli' AND seq = 8");
    try {
      Result r = run(PG.r2dbcUrl(), "gw-cli", "1", "10");

      assertThat(r.code).isEqualTo(1);
      assertThat(r.out).startsWith("FAILED chain gw-cli seq 1..10: ALTERED at seq 8").contains("NOT checked");
    } finally {
      PG.execute("SET session_replication_role = replica",
          "UPDATE portcullis.audit_events SET \"rows\" = 7 WHERE chain_id = 'gw-cli' AND seq = 8");
    }
  }

  @Test
  void explainsUsageWithExitTwo() {
    Result r = run("only-one-arg");

    assertThat(r.code).isEqualTo(2);
    assertThat(r.err).contains("usage: audit-verify");
  }

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = AuditVerifyCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}

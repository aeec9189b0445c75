package io.portcullis.audit.cli;

import com.nimbusds.jose.jwk.JWKSet;
import io.portcullis.audit.AuditVerifier;
import io.portcullis.audit.CheckpointFile;
import io.portcullis.audit.CheckpointStore;
import io.portcullis.audit.VerificationReport;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code verify}: checks one audit chain stored in PostgreSQL and prints OK or the first tampered event.
 *
 * <pre>
 * java -cp audit-sink.jar:… io.portcullis.audit.cli.AuditVerifyCli [--jwks JWKS] URL CHAIN_ID [FROM_SEQ [TO_SEQ]]
 *   JWKS a file, or the gateway's published keys: http://gateway:8081/admin/signing-keys
 *   --checkpoints FILE  the exported checkpoints (JSON lines) instead of the database's table: a deleted tail whose
 *                       checkpoints were deleted with it still shows
 *   URL  r2dbc:postgresql://user:pw@host:5432/db  or  jdbc:postgresql://host:5432/db?user=u&amp;password=pw
 * </pre>
 * Exit status: 0 intact, 1 tampering found, 2 usage or connection error. Without {@code --jwks} (the checkpoint
 * signers' public JWKS, a file or the gateway's {@code GET /admin/signing-keys}) checkpoint signatures are not
 * checked, and the output says so.
 */
public final class AuditVerifyCli {

  static final String USAGE = "usage: audit-verify [--jwks JWKS_FILE_OR_URL] [--checkpoints FILE] URL CHAIN_ID "
      + "[FROM_SEQ [TO_SEQ]]\n"
      + "  JWKS: the checkpoint signers' public keys, a file or e.g. http://gateway:8081/admin/signing-keys\n"
      + "  --checkpoints: verify against an exported checkpoint file (portcullis.audit.checkpoint-export) instead of "
      + "the database's table\n"
      + "  URL: r2dbc:postgresql://user:pw@host:5432/db or jdbc:postgresql://host:5432/db?user=u&password=pw";

  private AuditVerifyCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    List<String> positional = new ArrayList<>();
    String jwks = null;
    Path checkpointFile = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--jwks") && i + 1 < args.length) {
        jwks = args[++i];
      } else if (args[i].equals("--checkpoints") && i + 1 < args.length) {
        checkpointFile = Path.of(args[++i]);
      } else if (args[i].equals("-h") || args[i].equals("--help")) {
        out.println(USAGE);
        return 0;
      } else {
        positional.add(args[i]);
      }
    }
    if (positional.size() < 2 || positional.size() > 4) {
      err.println(USAGE);
      return 2;
    }
    long from;
    long to;
    try {
      from = positional.size() > 2 ? Long.parseLong(positional.get(2)) : 1;
      to = positional.size() > 3 ? Long.parseLong(positional.get(3)) : Long.MAX_VALUE;
    } catch (NumberFormatException e) {
      err.println("FROM_SEQ and TO_SEQ must be numbers\n" + USAGE);
      return 2;
    }
    if (from < 1 || to < from) {
      err.println("range: " + from + ".." + to + " (expected: 1 <= FROM_SEQ <= TO_SEQ)");
      return 2;
    }
    JWKSet keys = null;
    if (jwks != null) {
      try {
        keys = jwks.startsWith("http://") || jwks.startsWith("https://")
            ? JWKSet.load(URI.create(jwks).toURL())
            : JWKSet.parse(Files.readString(Path.of(jwks), StandardCharsets.UTF_8));
      } catch (IOException | ParseException | IllegalArgumentException e) {
        err.println("cannot read JWKS " + jwks + ": " + e.getMessage());
        return 2;
      }
    }
    CheckpointStore checkpoints = null;
    if (checkpointFile != null) {
      try {
        checkpoints = CheckpointFile.read(checkpointFile);
      } catch (IOException e) {
        err.println("cannot read checkpoints " + checkpointFile + ": " + e.getMessage());
        return 2;
      }
    }
    ConnectionFactory cf;
    try {
      cf = ConnectionFactories.get(r2dbcUrl(positional.get(0)));
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("bad URL: " + e.getMessage());
      return 2;
    }
    VerificationReport report;
    try {
      AuditVerifier verifier = checkpoints == null ? new AuditVerifier(cf, keys)
          : new AuditVerifier(cf, checkpoints, keys);
      report = verifier.verify(positional.get(1), from, to).block(Duration.ofHours(1));
    } catch (RuntimeException e) {
      // a CLI's last resort: the operator needs the reason, not a stack trace
      err.println("verification could not run: " + e);
      return 2;
    }
    out.println(report.render());
    return report.ok() ? 0 : 1;
  }

  /**
   * Turns a JDBC URL into an R2DBC one: R2DBC wants credentials in the authority ({@code user:pw@host}), not in the
   * query string. Values stay percent-encoded as given.
   */
  static String r2dbcUrl(String url) {
    if (!url.startsWith("jdbc:postgresql://")) {
      return url;
    }
    String rest = url.substring("jdbc:postgresql://".length());
    int q = rest.indexOf('?');
    String base = q < 0 ? rest : rest.substring(0, q);
    String user = null;
    String password = null;
    List<String> kept = new ArrayList<>();
    if (q >= 0) {
      for (String pair : rest.substring(q + 1).split("&")) {
        if (pair.startsWith("user=")) {
          user = pair.substring(5);
        } else if (pair.startsWith("password=")) {
          password = pair.substring(9);
        } else if (!pair.isEmpty()) {
          kept.add(pair);
        }
      }
    }
    String auth = user == null ? "" : user + (password == null ? "" : ":" + password) + "@";
    return "r2dbc:postgresql://" + auth + base + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
  }
}

package io.portcullis.policy;

import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.model.Action;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;

final class Fixtures {
  static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
  static final CompileOptions OPTIONS =
      new CompileOptions(7, "0123456789abcdef-test-key".getBytes(StandardCharsets.UTF_8), Clock.fixed(NOW, ZoneOffset.UTC));

  private Fixtures() {}

  static PolicySnapshot example() throws Exception {
    return PolicyCompiler.compile(PolicyConfigLoader.loadLocated(Path.of("examples/portcullis.yaml")), OPTIONS);
  }

  static PolicySnapshot compile(String yaml) throws Exception {
    return PolicyCompiler.compile(PolicyConfigLoader.parseLocated(yaml, "t.yaml"), OPTIONS);
  }

  static TokenClaims token(String app, Set<String> scopes, Map<String, Object> attrs) {
    return new TokenClaims("user-1", app, scopes, 1, attrs, "jti-1", NOW.minusSeconds(60), NOW.plusSeconds(600));
  }

  static DecisionRequest request(TokenClaims token, String dataset, Action action) {
    String method = switch (action) {
      case READ -> "GET";
      case CREATE -> "POST";
      case UPDATE -> "PATCH";
      case DELETE -> "DELETE";
    };
    return new DecisionRequest(token, dataset, action, method, "/data/" + dataset, "10.0.0.1", NOW);
  }
}

package io.portcullis.gateway.database;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where Portcullis keeps its own state (config versions, keys, revocations, audit) and the demo datasets.
 *
 * @param url       {@code r2dbc:postgresql://user:pass@host:port/db}; empty means the embedded default
 * @param dataDir   where the embedded PostgreSQL keeps its files between runs
 * @param reset     wipe the embedded data directory at start ({@code --demo.reset} sets it too)
 * @param poolSize  connections in the pool used by the connector and the stores
 * @param acquireTimeout how long a request waits for a pooled connection before {@code upstream_unavailable}
 */
@ConfigurationProperties("portcullis.database")
public record DatabaseProperties(
    @DefaultValue("") String url,
    @DefaultValue(".portcullis/pgdata") Path dataDir,
    @DefaultValue("false") boolean reset,
    @DefaultValue("16") int poolSize,
    @DefaultValue("2s") Duration acquireTimeout,
    @DefaultValue("0") int embeddedPort) {

  public boolean embedded() {
    return url == null || url.isBlank();
  }
}

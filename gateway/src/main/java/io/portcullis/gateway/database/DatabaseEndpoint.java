package io.portcullis.gateway.database;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/** The R2DBC URL of the database in use, and the embedded server if we started one (closed with the context). */
public record DatabaseEndpoint(String r2dbcUrl, @Nullable EmbeddedPostgresServer embedded) implements AutoCloseable {

  @Override
  public void close() throws IOException {
    if (embedded != null) {
      embedded.close();
    }
  }
}

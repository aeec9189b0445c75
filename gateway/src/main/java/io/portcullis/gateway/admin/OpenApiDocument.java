package io.portcullis.gateway.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The admin API's OpenAPI 3 document, hand-maintained next to the routes ({@code AdminOpenApiTest} keeps it whole). */
final class OpenApiDocument {

  static final String RESOURCE = "admin/openapi.json";
  private static final byte[] BYTES = load();

  private OpenApiDocument() {
  }

  static byte[] bytes() {
    return BYTES.clone();
  }

  private static byte[] load() {
    try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing classpath resource " + RESOURCE);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

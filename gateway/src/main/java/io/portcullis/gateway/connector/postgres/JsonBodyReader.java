package io.portcullis.gateway.connector.postgres;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.OptionalLong;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Mono;

/**
 * Reads a write's JSON body with a size limit enforced while the bytes arrive (a declared {@code Content-Length} over
 * the limit is refused before reading anything), and parses it strictly: one JSON object, no duplicate keys, nothing
 * after it. Jackson 2 because the contract validator (networknt) works on its trees.
 */
final class JsonBodyReader {

  private static final ObjectMapper JSON = JsonMapper.builder()
      // {"name":"a","name":"b"} would otherwise mean whatever the last one says, after validation saw either.
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private JsonBodyReader() {
  }

  static Mono<JsonNode> read(ServerRequest request, int maxBytes) {
    OptionalLong declared = request.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > maxBytes) {
      return Mono.error(tooLarge(maxBytes));
    }
    MediaType type = request.headers().contentType().orElse(null);
    if (type != null && !isJson(type)) {
      return Mono.error(invalid("", "the body must be application/json"));
    }
    return DataBufferUtils.join(request.exchange().getRequest().getBody(), maxBytes)
        .onErrorMap(DataBufferLimitException.class, e -> tooLarge(maxBytes))
        .map(buffer -> {
          // asInputStream(true) releases the pooled buffer when the stream closes, parsed or not.
          try (InputStream in = buffer.asInputStream(true)) {
            return parse(in);
          } catch (IOException e) {
            throw invalid("", "the body could not be read");
          }
        })
        .switchIfEmpty(Mono.error(() -> invalid("", "the body must be a JSON object")));
  }

  static JsonNode parse(InputStream in) throws IOException {
    JsonNode node;
    try {
      node = JSON.readTree(in);
    } catch (JsonProcessingException e) {
      // The location only, never the parser's message: it quotes the input and names internals.
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw invalid("", "the body is not well-formed JSON" + where);
    }
    if (node == null || node.isMissingNode() || !node.isObject()) {
      throw invalid("", "the body must be a JSON object");
    }
    return node;
  }

  private static boolean isJson(MediaType type) {
    return MediaType.APPLICATION_JSON.isCompatibleWith(type)
        || (type.getSubtype().endsWith("+json") && "application".equals(type.getType()));
  }

  static ProblemException tooLarge(int maxBytes) {
    return new ProblemException(ProblemCode.PAYLOAD_TOO_LARGE,
        "the body is larger than " + maxBytes + " bytes");
  }

  static ProblemException invalid(String pointer, String message) {
    return BodyViolation.problem(List.of(new BodyViolation(pointer, message)));
  }
}

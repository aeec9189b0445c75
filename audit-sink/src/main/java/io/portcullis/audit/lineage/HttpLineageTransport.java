package io.portcullis.audit.lineage;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * POSTs each event to {@code <url>/api/v1/lineage} (the OpenLineage HTTP API that Marquez serves) with the JDK's
 * asynchronous HTTP client: no thread waits on the network. Any 2xx is success; anything else is an error.
 */
public final class HttpLineageTransport implements LineageTransport {

  private final HttpClient client;
  private final URI endpoint;
  private final String apiKey;
  private final Duration timeout;

  /**
   * @param url     the server, e.g. {@code http://marquez:5000}; {@code /api/v1/lineage} is appended
   * @param apiKey  sent as {@code Authorization: Bearer <apiKey>}; null or blank: none
   * @param timeout per request
   */
  public HttpLineageTransport(URI url, String apiKey, Duration timeout) {
    String base = Objects.requireNonNull(url, "url").toString();
    this.endpoint = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/api/v1/lineage");
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.client = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public Mono<Void> send(String job, String json) {
    HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json));
    if (apiKey != null) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    return Mono.fromFuture(() -> client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding()))
        .flatMap(response -> response.statusCode() / 100 == 2 ? Mono.<Void>empty()
            : Mono.error(new IllegalStateException("lineage POST " + endpoint + " answered " + response.statusCode())));
  }

  @Override
  public String name() {
    return "http:" + endpoint;
  }
}

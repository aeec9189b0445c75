package io.portcullis.broker;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyExtractors;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The broker's HTTP surface (DESIGN.md §5): {@code POST /oauth2/token}, {@code POST /oauth2/revoke}, {@code GET
 * /.well-known/jwks.json} and {@code GET /.well-known/oauth-authorization-server} (RFC 8414).
 *
 * <p>Every error is an RFC 6749 §5.2 JSON body with {@code Cache-Control: no-store}, produced in one place
 * ({@link #error}). Bodies are read with a hard byte cap before any parsing.
 */
public final class BrokerRoutes {

  static final String CLIENT_CREDENTIALS = "client_credentials";
  static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  static final String TT_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
  static final String TT_JWT = "urn:ietf:params:oauth:token-type:jwt";
  static final String TT_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token";
  private static final Set<String> SUBJECT_TOKEN_TYPES = Set.of(TT_JWT, TT_ID_TOKEN, TT_ACCESS_TOKEN);
  private static final Duration JWKS_MAX_AGE = Duration.ofSeconds(60);

  private final ClientAuthenticator authenticator;
  private final TokenIssuer issuer;
  private final SigningKeys keys;
  private final RevocationStore revocations;
  private final SubjectTokenValidator subjects;
  private final BrokerEventListener events;
  private final Clock clock;
  private final int maxRequestBytes;
  private final String metadataJson;
  private final long retryAfterSeconds;

  BrokerRoutes(ClientAuthenticator authenticator, TokenIssuer issuer, SigningKeys keys, RevocationStore revocations,
      SubjectTokenValidator subjects, BrokerEventListener events, Clock clock, int maxRequestBytes,
      String tokenEndpoint) {
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.keys = Objects.requireNonNull(keys, "keys");
    this.revocations = Objects.requireNonNull(revocations, "revocations");
    this.subjects = Objects.requireNonNull(subjects, "subjects");
    this.events = Objects.requireNonNull(events, "events");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (maxRequestBytes < 1024) {
      throw new IllegalArgumentException("maxRequestBytes: %s (expected: >= 1024)".formatted(maxRequestBytes));
    }
    this.maxRequestBytes = maxRequestBytes;
    this.metadataJson = metadata(issuer.issuer(), tokenEndpoint, subjects.enabled());
    this.retryAfterSeconds = Math.max(1, authenticator.retryAfter().toSeconds());
  }

  /** The four endpoints, to mount in a WebFlux application (or {@code RouterFunctions.toHttpHandler}). */
  public RouterFunction<ServerResponse> routerFunction() {
    return RouterFunctions.route()
        .POST("/oauth2/token", this::token)
        .POST("/oauth2/revoke", this::revoke)
        .GET("/.well-known/jwks.json", this::jwks)
        .GET("/.well-known/oauth-authorization-server", this::metadata)
        .build();
  }

  Mono<ServerResponse> token(ServerRequest request) {
    String address = remoteAddress(request);
    return form(request)
        .flatMap(form -> {
          String grantType = form.require("grant_type");
          if (!CLIENT_CREDENTIALS.equals(grantType) && !TOKEN_EXCHANGE.equals(grantType)) {
            return Mono.error(OAuthException.unsupportedGrantType("grant_type not supported"));
          }
          Set<String> scopes = scopes(form.get("scope"));
          Duration ttl = requestedTtl(form.get("expires_in"));
          boolean exchange = TOKEN_EXCHANGE.equals(grantType);
          if (exchange) {
            checkExchangeParameters(form);
          }
          String grant = exchange ? "token-exchange" : CLIENT_CREDENTIALS;
          return authenticator.authenticate(form, authorization(request), address)
              .flatMap(client -> (exchange
                  ? subjects.validate(form.require("subject_token"))
                      .map(user -> issuer.issue(client, user.subject(), scopes, ttl, user.attrs()))
                  : Mono.fromSupplier(() -> issuer.issue(client, client.clientId(), scopes, ttl, client.attrs())))
                  .onErrorMap(OAuthException.class, e -> e.forClient(client.clientId())))
              .onErrorMap(OAuthException.class, e -> e.during(grant))
              .map(token -> {
                events.onEvent(BrokerEvent.issued(token, grant, address));
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("access_token", token.accessToken());
                if (exchange) {
                  body.put("issued_token_type", TT_ACCESS_TOKEN);
                }
                body.put("token_type", "Bearer");
                body.put("expires_in", token.expiresInSeconds());
                body.put("scope", token.scope());
                return body;
              });
        })
        .flatMap(body -> json(200, JSONObjectUtils.toJSONString(body)))
        .onErrorResume(OAuthException.class, e -> refused(e, address));
  }

  private void checkExchangeParameters(Form form) {
    if (!subjects.enabled()) {
      throw OAuthException.unsupportedGrantType("token exchange is not configured");
    }
    form.require("subject_token");
    if (!SUBJECT_TOKEN_TYPES.contains(form.require("subject_token_type"))) {
      throw OAuthException.invalidRequest("subject_token_type not supported");
    }
    String requested = form.get("requested_token_type");
    if (requested != null && !requested.equals(TT_ACCESS_TOKEN) && !requested.equals(TT_JWT)) {
      throw OAuthException.invalidRequest("requested_token_type not supported");
    }
    if (form.has("actor_token") || form.has("actor_token_type")) {
      throw OAuthException.invalidRequest("delegation (actor_token) is not supported");
    }
  }

  /** RFC 7009: an authenticated client may revoke its own tokens; anything else is a silent 200. */
  Mono<ServerResponse> revoke(ServerRequest request) {
    String address = remoteAddress(request);
    return form(request)
        .flatMap(form -> {
          String token = form.require("token");
          return authenticator.authenticate(form, authorization(request), address)
              .flatMap(client -> ownToken(token, client)
                  .flatMap(claims -> revocations.revoke(claims.getJWTID(), client.clientId(),
                      claims.getExpirationTime().toInstant())))
              .then(Mono.defer(() -> ServerResponse.ok().headers(BrokerRoutes::noStore).build()))
              .onErrorMap(OAuthException.class, e -> e.during("revoke"));
        })
        .onErrorResume(OAuthException.class, e -> refused(e, address));
  }

  /** The token's claims when it is one of ours (signature by a published key), issued to this client, not expired. */
  private Mono<JWTClaimsSet> ownToken(String token, RegisteredClient client) {
    if (token.length() > AccessTokenVerifier.MAX_TOKEN_CHARS) {
      return Mono.empty();
    }
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      String kid = jwt.getHeader().getKeyID();
      JWK key = kid == null ? null : keys.publicKey(kid);
      JWSVerifier verifier = key == null ? null
          : JwsVerifiers.verifier(jwt.getHeader().getAlgorithm(), key, JwsVerifiers.ACCESS_TOKEN);
      if (verifier == null || !jwt.verify(verifier)) {
        return Mono.empty();
      }
      JWTClaimsSet c = jwt.getJWTClaimsSet();
      if (!client.clientId().equals(c.getStringClaim("client_id")) || c.getJWTID() == null
          || c.getExpirationTime() == null
          || clock.instant().isAfter(c.getExpirationTime().toInstant().plus(AccessTokenVerifier.SKEW))) {
        return Mono.empty();
      }
      return Mono.just(c);
    } catch (ParseException | JOSEException e) {
      return Mono.empty();
    }
  }

  Mono<ServerResponse> jwks(ServerRequest request) {
    // Short max-age: verifiers pick up a rotated key within a minute even without a kid miss.
    return ServerResponse.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .header(HttpHeaders.CACHE_CONTROL, "public, max-age=" + JWKS_MAX_AGE.toSeconds())
        .bodyValue(keys.publicJwksJson());
  }

  Mono<ServerResponse> metadata(ServerRequest request) {
    return ServerResponse.ok()
        .contentType(MediaType.APPLICATION_JSON)
        .header(HttpHeaders.CACHE_CONTROL, "public, max-age=3600")
        .bodyValue(metadataJson);
  }

  private static String metadata(String issuer, String tokenEndpoint, boolean exchange) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    List<String> authMethods = List.of("client_secret_basic", "client_secret_post", "private_key_jwt");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("issuer", issuer);
    m.put("token_endpoint", tokenEndpoint);
    m.put("jwks_uri", base + "/.well-known/jwks.json");
    m.put("revocation_endpoint", base + "/oauth2/revoke");
    m.put("grant_types_supported", exchange ? List.of(CLIENT_CREDENTIALS, TOKEN_EXCHANGE) : List.of(CLIENT_CREDENTIALS));
    m.put("response_types_supported", List.of());
    m.put("token_endpoint_auth_methods_supported", authMethods);
    m.put("token_endpoint_auth_signing_alg_values_supported",
        JwsVerifiers.ASYMMETRIC.stream().map(a -> a.getName()).sorted().toList());
    m.put("revocation_endpoint_auth_methods_supported", authMethods);
    return JSONObjectUtils.toJSONString(m);
  }

  private Mono<Form> form(ServerRequest request) {
    MediaType type = request.headers().contentType().orElse(null);
    if (type == null || !MediaType.APPLICATION_FORM_URLENCODED.equalsTypeAndSubtype(type)) {
      return Mono.error(OAuthException.invalidRequest("Content-Type must be application/x-www-form-urlencoded"));
    }
    long declared = request.headers().contentLength().orElse(-1);
    if (declared > maxRequestBytes) {
      return Mono.error(new OAuthException(413, "invalid_request", "request body too large"));
    }
    // The cap holds for chunked bodies too: join stops (and errors) as soon as the limit is passed.
    return DataBufferUtils.join(request.body(BodyExtractors.toDataBuffers()), maxRequestBytes)
        .map(buffer -> {
          try {
            byte[] bytes = new byte[buffer.readableByteCount()];
            buffer.read(bytes);
            return bytes;
          } finally {
            DataBufferUtils.release(buffer);
          }
        })
        .defaultIfEmpty(new byte[0])
        .onErrorMap(DataBufferLimitException.class,
            e -> new OAuthException(413, "invalid_request", "request body too large"))
        .map(Form::parse);
  }

  private static Set<String> scopes(@Nullable String scope) {
    if (scope == null || scope.isBlank()) {
      return Set.of();
    }
    Set<String> out = new java.util.LinkedHashSet<>();
    for (String s : scope.split(" ")) {
      if (s.isEmpty()) {
        continue;
      }
      // RFC 6749 §3.3 scope-token: printable ASCII except space, '"' and '\'.
      for (int i = 0; i < s.length(); i++) {
        char ch = s.charAt(i);
        if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\') {
          throw OAuthException.invalidScope("malformed scope");
        }
      }
      out.add(s);
    }
    return out;
  }

  private static @Nullable Duration requestedTtl(@Nullable String expiresIn) {
    if (expiresIn == null) {
      return null;
    }
    try {
      long seconds = Long.parseLong(expiresIn);
      if (seconds <= 0) {
        throw OAuthException.invalidRequest("expires_in must be a positive number of seconds");
      }
      return Duration.ofSeconds(Math.min(seconds, 86_400));
    } catch (NumberFormatException e) {
      throw OAuthException.invalidRequest("expires_in must be a positive number of seconds");
    }
  }

  private static @Nullable String authorization(ServerRequest request) {
    return request.headers().firstHeader(HttpHeaders.AUTHORIZATION);
  }

  private static String remoteAddress(ServerRequest request) {
    // Deliberately not X-Forwarded-For: a caller could rotate it to dodge the per-address limit. Behind a trusted
    // proxy, install Spring's ForwardedHeaderTransformer so remoteAddress() is the real client.
    return request.remoteAddress()
        .map(a -> a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString())
        .orElse("unknown");
  }

  /**
   * Every refused request is one audit event (issue 4: each attack on the broker — a wrong secret, an unknown client,
   * a scope never granted, an untrusted subject token, a brute-force run into {@code slow_down} — leaves a trace).
   */
  private Mono<ServerResponse> refused(OAuthException e, String address) {
    events.onEvent(BrokerEvent.refused(clock.instant(), e, address));
    return error(e);
  }

  private Mono<ServerResponse> error(OAuthException e) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.error());
    body.put("error_description", e.description());
    ServerResponse.BodyBuilder b = ServerResponse.status(e.status())
        .contentType(MediaType.APPLICATION_JSON)
        .headers(BrokerRoutes::noStore);
    if (e.status() == 401) {
      b.header(HttpHeaders.WWW_AUTHENTICATE, "Basic realm=\"portcullis\"");
    }
    if (e.status() == 429) {
      b.header(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
    }
    return b.bodyValue(JSONObjectUtils.toJSONString(body));
  }

  private static Mono<ServerResponse> json(int status, String body) {
    return ServerResponse.status(status)
        .contentType(MediaType.APPLICATION_JSON)
        .headers(BrokerRoutes::noStore)
        .bodyValue(body);
  }

  private static void noStore(HttpHeaders h) {
    h.setCacheControl("no-store");
    h.setPragma("no-cache");
  }

}

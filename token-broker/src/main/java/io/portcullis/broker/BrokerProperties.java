package io.portcullis.broker;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code portcullis.broker.*}. Every field has a default except {@code key-encryption-key}, which is required when this
 * process signs tokens (it unseals the private keys in PostgreSQL).
 *
 * @param issuer            {@code iss} of access tokens and the base of the endpoint URLs in the metadata
 * @param audience          {@code aud} of access tokens
 * @param algorithm         RS256 (default), ES256 or EdDSA; changing it rotates to a key of the new type at start
 * @param keyEncryptionKey  base64 of 32 random bytes (AES-256-GCM) sealing the signing keys at rest
 * @param rotationPeriod    age at which the active key is replaced (retired keys stay published for the token TTL)
 * @param maintenanceInterval how often keys are reloaded/rotated and expired revocations purged
 * @param revocationResync  full resync period of the revocation view (LISTEN/NOTIFY covers the rest)
 * @param jwksUri           when set, the verifier fetches keys from this URL instead of the in-process key ring
 *                          (a gateway that does not run the broker itself)
 * @param jwksMinRefresh    at most one JWKS fetch per this interval on unknown kids
 * @param tokenEndpoint     the token endpoint URL client assertions must name in {@code aud}; default issuer +
 *                          {@code /oauth2/token}
 * @param maxRequestBytes   cap on a token/revoke request body
 * @param bruteForce        failed-authentication limits
 * @param tokenExchange     RFC 8693 trusted corporate IdPs and the claim mapping into {@code attrs}
 */
@ConfigurationProperties("portcullis.broker")
public record BrokerProperties(
    String issuer,
    String audience,
    SigningAlgorithm algorithm,
    @Nullable String keyEncryptionKey,
    Duration rotationPeriod,
    Duration maintenanceInterval,
    Duration revocationResync,
    @Nullable URI jwksUri,
    Duration jwksMinRefresh,
    @Nullable String tokenEndpoint,
    int maxRequestBytes,
    BruteForce bruteForce,
    TokenExchange tokenExchange) {

  public BrokerProperties {
    issuer = issuer == null ? "http://localhost:8080" : issuer;
    audience = audience == null ? "portcullis" : audience;
    algorithm = algorithm == null ? SigningAlgorithm.RS256 : algorithm;
    rotationPeriod = rotationPeriod == null ? Duration.ofDays(30) : rotationPeriod;
    maintenanceInterval = maintenanceInterval == null ? Duration.ofMinutes(1) : maintenanceInterval;
    revocationResync = revocationResync == null ? Duration.ofSeconds(5) : revocationResync;
    jwksMinRefresh = jwksMinRefresh == null ? Duration.ofSeconds(10) : jwksMinRefresh;
    maxRequestBytes = maxRequestBytes == 0 ? 24 * 1024 : maxRequestBytes;
    bruteForce = bruteForce == null ? new BruteForce(0, 0, null) : bruteForce;
    tokenExchange = tokenExchange == null ? new TokenExchange(null, null) : tokenExchange;
    if (rotationPeriod.compareTo(TokenIssuer.maxTtl()) <= 0) {
      throw new IllegalArgumentException("portcullis.broker.rotation-period: %s (expected: > %s, the longest token TTL)"
          .formatted(rotationPeriod, TokenIssuer.maxTtl()));
    }
  }

  /** All defaults (tests, programmatic wiring): then use the {@code with…} methods. */
  public static BrokerProperties defaults() {
    return new BrokerProperties(null, null, null, null, null, null, null, null, null, null, 0, null, null);
  }

  public BrokerProperties withIssuer(String issuer) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  public BrokerProperties withAlgorithm(SigningAlgorithm algorithm) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  public BrokerProperties withKeyEncryptionKey(String keyEncryptionKey) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  public BrokerProperties withBruteForce(BruteForce bruteForce) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  public BrokerProperties withTokenExchange(TokenExchange tokenExchange) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  public BrokerProperties withJwksUri(URI jwksUri) {
    return new BrokerProperties(issuer, audience, algorithm, keyEncryptionKey, rotationPeriod, maintenanceInterval,
        revocationResync, jwksUri, jwksMinRefresh, tokenEndpoint, maxRequestBytes, bruteForce, tokenExchange);
  }

  /** The URL client assertions must name in {@code aud} (the issuer is accepted too). */
  public String effectiveTokenEndpoint() {
    if (tokenEndpoint != null) {
      return tokenEndpoint;
    }
    return (issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer) + "/oauth2/token";
  }

  /**
   * @param maxFailuresPerClient  failed authentications per client id per window before {@code slow_down}
   * @param maxFailuresPerAddress failed authentications per remote address per window
   * @param window                fixed window, starting at the first failure
   */
  public record BruteForce(int maxFailuresPerClient, int maxFailuresPerAddress, @Nullable Duration window) {
    public BruteForce {
      maxFailuresPerClient = maxFailuresPerClient == 0 ? 10 : maxFailuresPerClient;
      maxFailuresPerAddress = maxFailuresPerAddress == 0 ? 50 : maxFailuresPerAddress;
      window = window == null ? Duration.ofMinutes(5) : window;
    }
  }

  /**
   * @param trustedIssuers corporate IdPs whose user tokens may be exchanged; none = exchange disabled
   * @param claimMapping   attrs name → user-token claim, applied unless an issuer has its own; default
   *                       {@code owner_id: sub}
   */
  public record TokenExchange(List<TrustedIssuer> trustedIssuers, Map<String, String> claimMapping) {
    public TokenExchange {
      trustedIssuers = trustedIssuers == null ? List.of() : List.copyOf(trustedIssuers);
      claimMapping = claimMapping == null ? Map.of("owner_id", "sub") : Map.copyOf(claimMapping);
    }
  }

  /**
   * @param issuer       exact {@code iss} of the IdP's tokens
   * @param audiences    accepted {@code aud} values (e.g. the client id Portcullis has at the IdP)
   * @param jwks         the IdP's JWK Set inline (JSON), or
   * @param jwksUri      where to fetch it (non-blocking, cached, refreshed on unknown kid)
   * @param claimMapping overrides {@link TokenExchange#claimMapping()} for this IdP when non-empty
   */
  public record TrustedIssuer(String issuer, List<String> audiences, @Nullable String jwks, @Nullable URI jwksUri,
      Map<String, String> claimMapping) {
    public TrustedIssuer {
      Objects.requireNonNull(issuer, "portcullis.broker.token-exchange.trusted-issuers[].issuer");
      audiences = audiences == null ? List.of() : List.copyOf(audiences);
      claimMapping = claimMapping == null ? Map.of() : Map.copyOf(claimMapping);
      if ((jwks == null) == (jwksUri == null)) {
        throw new IllegalArgumentException(
            "trusted issuer " + issuer + ": give exactly one of jwks (inline JSON) and jwks-uri");
      }
      if (audiences.isEmpty()) {
        throw new IllegalArgumentException("trusted issuer " + issuer + ": audiences empty (expected: at least one)");
      }
    }
  }
}

package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.test.StepVerifier;

class SigningKeyStoreTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ConnectionFactory cf;

  @BeforeAll
  static void schema() {
    cf = ConnectionFactories.get(PG.r2dbcUrl());
    BrokerSchema.apply(cf).block();
    BrokerSchema.apply(cf).block(); // idempotent
  }

  static final class MutableClock extends Clock {
    volatile Instant now = Instant.now();

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void privateKeysAreEncryptedAtRestAndReloadOnlyWithTheSameKek() throws Exception {
    PG.execute("DELETE FROM portcullis.signing_keys");
    KeyEncryptionKey kek = KeyEncryptionKey.random();
    SigningKeyStore first = new SigningKeyStore(cf, kek, SigningAlgorithm.RS256, Duration.ofDays(30),
        TokenIssuer.maxTtl(), Clock.systemUTC());
    String kid = first.initialize().block().activeKid();

    try (java.sql.Connection c = PG.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT private_jwk_enc, public_jwk FROM portcullis.signing_keys")) {
      assertThat(rs.next()).isTrue();
      String sealed = new String(rs.getBytes(1), java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(sealed).doesNotContain("\"d\"").doesNotContain("\"kty\"");
      assertThat(rs.getString(2)).doesNotContain("\"d\"");
      assertThat(rs.next()).isFalse();
    }

    SigningKeyStore second = new SigningKeyStore(cf, kek, SigningAlgorithm.RS256, Duration.ofDays(30),
        TokenIssuer.maxTtl(), Clock.systemUTC());
    assertThat(second.initialize().block().activeKid()).isEqualTo(kid);

    SigningKeyStore wrongKek = new SigningKeyStore(cf, KeyEncryptionKey.random(), SigningAlgorithm.RS256,
        Duration.ofDays(30), TokenIssuer.maxTtl(), Clock.systemUTC());
    assertThatThrownBy(() -> wrongKek.initialize().block()).hasMessageContaining("cannot decrypt");
  }

  @Test
  void rotationKeepsTheRetiredKeyPublishedUntilItsLastTokenExpires() {
    PG.execute("DELETE FROM portcullis.signing_keys");
    MutableClock clock = new MutableClock();
    SigningKeyStore store = new SigningKeyStore(cf, KeyEncryptionKey.random(), SigningAlgorithm.ES256,
        Duration.ofDays(1), TokenIssuer.maxTtl(), clock);
    SigningKeys keys = store.initialize().block();
    String oldKid = keys.activeKid();
    TokenIssuer issuer = new TokenIssuer(keys, "https://broker.example", "portcullis", clock);
    AccessTokenVerifier verifier = new AccessTokenVerifier(keys, "https://broker.example", "portcullis",
        RevocationCheck.NONE, clock);
    String oldToken = issuer.issue(new RegisteredClient("app", 1, true, null, null, Set.of("a:read")), "app",
        Set.of(), null, Map.of()).accessToken();

    store.rotateNow().block();
    assertThat(keys.activeKid()).isNotEqualTo(oldKid);
    assertThat(keys.publicJwks().getKeyByKeyId(oldKid)).isNotNull();
    StepVerifier.create(verifier.verify(oldToken)).expectNextCount(1).verifyComplete();

    // After the longest TTL (+ skew) the old key leaves the JWKS.
    clock.now = clock.now.plus(TokenIssuer.maxTtl()).plus(SigningKeyStore.PUBLISH_SKEW).plusSeconds(1);
    store.maintain().block();
    assertThat(keys.publicJwks().getKeyByKeyId(oldKid)).isNull();
    assertThat(keys.publicKey(oldKid)).isNull();
  }

  @Test
  void keyOlderThanTheRotationPeriodIsRotatedByMaintenanceOnce() {
    PG.execute("DELETE FROM portcullis.signing_keys");
    MutableClock clock = new MutableClock();
    KeyEncryptionKey kek = KeyEncryptionKey.random();
    SigningKeyStore a = new SigningKeyStore(cf, kek, SigningAlgorithm.EdDSA, Duration.ofDays(1),
        TokenIssuer.maxTtl(), clock);
    SigningKeyStore b = new SigningKeyStore(cf, kek, SigningAlgorithm.EdDSA, Duration.ofDays(1),
        TokenIssuer.maxTtl(), clock);
    String first = a.initialize().block().activeKid();
    assertThat(b.initialize().block().activeKid()).isEqualTo(first);

    clock.now = clock.now.plus(Duration.ofDays(1)).plusSeconds(1);
    // Two instances rotate at once: one active key results, both converge on it.
    reactor.core.publisher.Mono.when(a.maintain(), b.maintain()).block();
    a.maintain().block();
    b.maintain().block();
    assertThat(a.keys().activeKid()).isNotEqualTo(first).isEqualTo(b.keys().activeKid());
    assertThat(a.keys().publicJwks().getKeys()).hasSize(2);
  }
}

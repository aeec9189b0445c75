package io.portcullis.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RevocationRegistryTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ConnectionFactory cf;

  @BeforeAll
  static void schema() {
    cf = ConnectionFactories.get(PG.r2dbcUrl());
    BrokerSchema.apply(cf).block();
  }

  @Test
  void revocationOnOneStoreReachesAnotherRegistryWithin1s() {
    RevocationStore store = new RevocationStore(ConnectionFactories.get(PG.r2dbcUrl()), BrokerEventListener.NONE,
        Clock.systemUTC());
    try (RevocationRegistry registry = new RevocationRegistry(cf, Duration.ofMinutes(10), Clock.systemUTC())) {
      registry.start().block(Duration.ofSeconds(10));
      String jti = UUID.randomUUID().toString();
      long start = System.nanoTime();
      store.revoke(jti, "app-1", Instant.now().plusSeconds(600)).block();
      store.pauseApp("app-2", null).block();
      TokenEndpointTest.await(() -> registry.isRevoked(jti) && registry.isPaused("app-2"));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
      store.resumeApp("app-2").block();
      TokenEndpointTest.await(() -> !registry.isPaused("app-2"));
    }
  }

  @Test
  void resyncHealsAMissedNotification() {
    try (RevocationRegistry registry = new RevocationRegistry(cf, Duration.ofMillis(200), Clock.systemUTC())) {
      registry.start().block(Duration.ofSeconds(10));
      String jti = UUID.randomUUID().toString();
      // Written behind the registry's back: no NOTIFY.
      PG.execute("INSERT INTO portcullis.revoked_tokens (jti, client_id, expires_at) VALUES ('" + jti
          + "', 'app-1', now() + interval '10 minutes')",
          "INSERT INTO portcullis.paused_apps (client_id) VALUES ('app-silent')");
      TokenEndpointTest.await(() -> registry.isRevoked(jti) && registry.isPaused("app-silent"));
    }
  }

  @Test
  void registryReconnectsWhenItsListenConnectionIsKilled() {
    RevocationStore store = new RevocationStore(cf, BrokerEventListener.NONE, Clock.systemUTC());
    try (RevocationRegistry registry = new RevocationRegistry(cf, Duration.ofMinutes(10), Clock.systemUTC())) {
      registry.start().block(Duration.ofSeconds(10));
      PG.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
          + " WHERE query LIKE 'LISTEN portcullis_revocations%' AND pid <> pg_backend_pid()");
      String jti = UUID.randomUUID().toString();
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      // Once reconnected, its LISTEN+resync picks the revocation up even if the NOTIFY went to the dead session.
      store.revoke(jti, "app-1", Instant.now().plusSeconds(600)).block();
      while (!registry.isRevoked(jti) && System.nanoTime() < deadline) {
        TokenEndpointTest.sleep(20);
      }
      assertThat(registry.isRevoked(jti)).isTrue();
      String jti2 = UUID.randomUUID().toString();
      store.revoke(jti2, "app-1", Instant.now().plusSeconds(600)).block();
      TokenEndpointTest.await(() -> registry.isRevoked(jti2));
    }
  }
}

package io.portcullis.gateway.connector.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostgresConnectorPropertiesTest {

  @Test
  void tiersWithoutAConfiguredCostLimitGetTheirDefaultStrictForTier0GenerousForTier2() {
    PostgresConnectorProperties none = new PostgresConnectorProperties(Duration.ofSeconds(15), 100, null, null);
    assertThat(none.maxQueryCost(0)).isEqualTo(10_000);
    assertThat(none.maxQueryCost(1)).isEqualTo(100_000);
    assertThat(none.maxQueryCost(2)).isEqualTo(1_000_000);
  }

  @Test
  void aConfiguredTierLimitWinsAndZeroTurnsItOff() {
    PostgresConnectorProperties some = new PostgresConnectorProperties(Duration.ofSeconds(15), 100,
        Map.of(0, new PostgresConnectorProperties.TierLimit(0), 2, new PostgresConnectorProperties.TierLimit(50)), null);
    assertThat(some.maxQueryCost(0)).isZero();
    assertThat(some.maxQueryCost(1)).isEqualTo(100_000);
    assertThat(some.maxQueryCost(2)).isEqualTo(50);
  }
}

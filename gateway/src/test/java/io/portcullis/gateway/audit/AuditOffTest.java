package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** Audit off ({@code portcullis.audit.sink=none}) exists for benchmarks only and can never be switched on by accident. */
class AuditOffTest {

  @Test
  void sinkNoneIsRefusedWithoutTheBenchProfile() {
    MockEnvironment production = new MockEnvironment();
    production.setActiveProfiles("prod");
    assertThatThrownBy(() -> AuditWiring.benchmarkOnly(production))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("portcullis.audit.sink=none").hasMessageContaining("'bench' profile");
    assertThatThrownBy(() -> AuditWiring.benchmarkOnly(new MockEnvironment()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void sinkNoneIsAcceptedUnderTheBenchProfile() {
    MockEnvironment bench = new MockEnvironment();
    bench.setActiveProfiles("bench");
    assertThat(AuditWiring.benchmarkOnly(bench).name()).isEqualTo("none");
  }
}

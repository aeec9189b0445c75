package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class AuditPropertiesTest {

  static AuditProperties bind(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("portcullis.audit", AuditProperties.class);
  }

  @Test
  void batchIntervalDefaultsTo100msAndCanBeLengthened() {
    assertThat(bind(Map.of()).batchInterval()).isEqualTo(Duration.ofMillis(100));
    assertThat(bind(Map.of("portcullis.audit.batch-interval", "1s")).batchInterval()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void batchIntervalOutsideOneMillisecondToTenSecondsIsRefused() {
    for (String bad : new String[] {"0ms", "11s"}) {
      assertThatThrownBy(() -> bind(Map.of("portcullis.audit.batch-interval", bad)))
          .isInstanceOf(BindException.class)
          .rootCause().hasMessageContaining("portcullis.audit.batch-interval")
          .hasMessageContaining("(expected: 1ms..10s)");
    }
  }
}

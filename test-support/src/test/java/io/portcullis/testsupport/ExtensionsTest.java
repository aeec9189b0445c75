package io.portcullis.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ExtensionsTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @RegisterExtension
  static final RedisExtension REDIS = new RedisExtension();

  @Test
  void postgresAnswersQueriesInAFreshDatabase() throws Exception {
    PG.execute("CREATE TABLE t (x int)", "INSERT INTO t VALUES (42)");
    try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT x, current_database() FROM t")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(42);
      assertThat(rs.getString(2)).isEqualTo(PG.database()).startsWith("t_");
    }
    assertThat(PG.r2dbcUrl()).startsWith("r2dbc:postgresql://").endsWith("/" + PG.database());
  }

  @Test
  void redisAnswersPingAndComesBackAfterAnOutage() throws Exception {
    assertThat(ping()).isEqualTo("+PONG");
    if (System.getenv("PORTCULLIS_TEST_REDIS_URL") == null) {
      REDIS.stop();
      assertThatThrownBy(this::ping).isInstanceOf(java.io.IOException.class);
      REDIS.start();
      assertThat(ping()).isEqualTo("+PONG");
    }
  }

  private String ping() throws Exception {
    try (Socket s = new Socket(REDIS.host(), REDIS.port())) {
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    }
  }
}

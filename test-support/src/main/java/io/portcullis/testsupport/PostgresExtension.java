package io.portcullis.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL for a test class, with a fresh database of its own.
 *
 * <p>Where the server comes from, first match wins:
 * <ol>
 *   <li>{@code PORTCULLIS_TEST_PG_URL} ({@code postgresql://user:password@host:port/db}): a running server;</li>
 *   <li>Testcontainers, when a Docker engine answers;</li>
 *   <li>embedded PostgreSQL binaries from Maven Central, on a random loopback port in a temp dir.</li>
 * </ol>
 * One server is shared by the whole test JVM (start-up costs ~2 s) and each test class gets its own database,
 * so classes cannot see each other's rows. Register it as a static field:
 * {@code @RegisterExtension static final PostgresExtension PG = new PostgresExtension();}
 */
public final class PostgresExtension implements BeforeAllCallback, BeforeEachCallback {

  private volatile PostgresServer server;
  private volatile String database;

  @Override
  public void beforeAll(ExtensionContext context) {
    ensureStarted(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    ensureStarted(context);
  }

  private synchronized void ensureStarted(ExtensionContext context) {
    if (database != null) {
      return;
    }
    server = context.getRoot()
        .getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(PostgresServer.class, k -> PostgresServer.start(), PostgresServer.class);
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    try (Connection c = DriverManager.getConnection(server.jdbcUrl(server.adminDatabase()), server.username(), server.password());
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create test database on " + server.describe(), e);
    }
    database = name;
  }

  public String host() {
    return started().host();
  }

  public int port() {
    return started().port();
  }

  public String database() {
    started();
    return database;
  }

  public String username() {
    return started().username();
  }

  public String password() {
    return started().password();
  }

  public String jdbcUrl() {
    return started().jdbcUrl(database);
  }

  /** {@code r2dbc:postgresql://user:password@host:port/db}, for {@code ConnectionFactories.get}. */
  public String r2dbcUrl() {
    PostgresServer s = started();
    return "r2dbc:postgresql://" + s.username() + ":" + s.password() + "@" + s.host() + ":" + s.port() + "/" + database;
  }

  /** A JDBC connection to this class's database, for fixtures and assertions (never on an event loop). */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), username(), password());
  }

  /** Runs SQL statements (fixtures, assertions) against this class's database. */
  public void execute(String... sql) {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private PostgresServer started() {
    PostgresServer s = server;
    if (s == null || database == null) {
      throw new IllegalStateException("PostgresExtension not started: register it with @RegisterExtension on a static field");
    }
    return s;
  }
}

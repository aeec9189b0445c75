package io.portcullis.gateway.demo;

import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.gateway.config.InstanceSecrets;
import io.portcullis.gateway.database.DatabaseProperties;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/** Prints where everything is and a ready-to-paste curl line once the demo gateway is up. */
@Component
final class DemoBanner implements ApplicationListener<ApplicationReadyEvent> {

  private static final Logger log = LoggerFactory.getLogger(DemoBanner.class);

  private final DemoProperties demo;
  private final DatabaseProperties database;
  private final InstanceSecrets secrets;
  private final AdminServer admin;

  DemoBanner(DemoProperties demo, DatabaseProperties database, InstanceSecrets secrets, AdminServer admin) {
    this.admin = admin;
    this.demo = demo;
    this.database = database;
    this.secrets = secrets;
  }

  @Override
  public void onApplicationEvent(ApplicationReadyEvent event) {
    if (!demo.enabledFor(database.embedded())) {
      return;
    }
    String port = event.getApplicationContext().getEnvironment().getProperty("local.server.port", "8080");
    int adminPort = admin.port();
    String base = "http://localhost:" + port;
    StringBuilder out = new StringBuilder(2048);
    out.append("\n\n  Portcullis is up (demo mode, embedded PostgreSQL).\n\n")
        .append("  gateway (data API)  ").append(base).append("/data/{dataset}\n")
        .append("  token broker        ").append(base).append("/oauth2/token   JWKS ").append(base).append("/.well-known/jwks.json\n")
        .append("  admin API           http://localhost:").append(adminPort).append("/admin\n")
        .append("  metrics             ").append(base).append("/actuator/prometheus\n\n")
        .append("  demo apps (client id / secret):\n");
    for (String app : withAdmin()) {
      String secret = secrets.get("demo-client-secret:" + app).block(Duration.ofSeconds(10));
      out.append("    ").append(String.format("%-18s", app)).append(secret).append('\n');
    }
    String inventorySecret = secrets.get("demo-client-secret:team-inventory").block(Duration.ofSeconds(10));
    out.append("\n  Try it (a tier-1 app reading its own team's inventory; unit_cost denied, supplier_email masked):\n\n")
        .append("    TOKEN=$(curl -s -u team-inventory:").append(inventorySecret)
        .append(" -d grant_type=client_credentials ").append(base).append("/oauth2/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n")
        .append("    curl -s -H \"Authorization: Bearer $TOKEN\" '").append(base).append("/data/inventory.items?limit=3'\n\n");
    log.info(out.toString());
  }

  private static List<String> withAdmin() {
    java.util.ArrayList<String> apps = new java.util.ArrayList<>(DemoSeeder.DEMO_APPS);
    apps.add(DemoSeeder.ADMIN_APP);
    return apps;
  }
}

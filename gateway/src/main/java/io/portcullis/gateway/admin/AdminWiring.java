package io.portcullis.gateway.admin;

import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditQuery;
import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.gateway.audit.AuditProperties;
import io.portcullis.gateway.audit.ChainVerifier;
import io.portcullis.broker.RevocationRegistry;
import io.portcullis.broker.RevocationStore;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.InstanceSecrets;
import io.portcullis.gateway.config.InstanceSigningKey;
import io.portcullis.gateway.config.PolicyCompilerService;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.problem.ProblemResponder;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Clock;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.DependsOn;
import org.springframework.web.reactive.function.server.HandlerStrategies;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The admin API on its own port, and the scheduled app review check. */
@Configuration(proxyBeanMethods = false)
class AdminWiring {

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  @Bean
  AdminAudit adminAudit(AuditPipeline audit) {
    return new AdminAudit(audit, Clock.systemUTC());
  }

  @Bean
  ReviewScheduler reviewScheduler(SnapshotHolder snapshots, RevocationStore revocations, ConnectionFactory connections,
      AdminAudit audit, LifecycleProperties properties) {
    return new ReviewScheduler(snapshots, revocations, connections, audit, properties, Clock.systemUTC());
  }

  /** The gateway's own key for approvals: the same in every replica, present with or without a local broker. */
  @Bean
  @DependsOn("schemaReady") // its table; the audit pipeline, created early, needs the key for its checkpoints
  InstanceSigningKey instanceSigningKey(InstanceSecrets secrets) {
    return InstanceSigningKey.load(secrets).block(STARTUP_TIMEOUT);
  }

  @Bean
  AdminRoutes adminRoutes(AccessTokenVerifier verifier, ConnectionFactory connections, ProblemResponder problems,
      ConfigStore configs, PolicyCompilerService compiler, SnapshotHolder snapshots, RevocationStore revocations,
      TokenBroker broker, AdminAudit audit, ReviewScheduler reviews, InstanceSigningKey signingKey) {
    AdminActions actions = new AdminActions(snapshots, revocations, broker, audit);
    ChangeRequestStore requests = new ChangeRequestStore(connections);
    ConfigChanges changes = new ConfigChanges(configs, requests, compiler, signingKey, audit,
        Clock.systemUTC());
    return new AdminRoutes(verifier, AuditQuery.create(connections), problems, actions, changes, configs, requests,
        compiler, snapshots, reviews, audit, signingKey);
  }

  /** Verification reads the events from PostgreSQL: with another sink the endpoint says where they are instead. */
  @Bean
  AuditVerifyRoutes auditVerifyRoutes(AuditPipeline pipeline, ConnectionFactory connections,
      InstanceSigningKey signingKey, AuditProperties audit) {
    if (audit.sink() != AuditProperties.SinkKind.POSTGRES) {
      return new AuditVerifyRoutes(null, "audit verification reads the PostgreSQL audit table, but this gateway's "
          + "events go to the " + audit.sink().name().toLowerCase(java.util.Locale.ROOT) + " sink");
    }
    return new AuditVerifyRoutes(new ChainVerifier(connections, signingKey.publicJwks(), pipeline), "");
  }

  @Bean
  OpsSnapshots opsSnapshots(MeterRegistry registry) {
    return new OpsSnapshots(registry, Clock.systemUTC());
  }

  @Bean
  ConsoleRoutes consoleRoutes(TokenBroker broker, OpsSnapshots snapshots, ProblemResponder problems, AdminAudit audit,
      RevocationRegistry revocations, AdminProperties properties) {
    return new ConsoleRoutes(broker, snapshots, new OpsTickets(Clock.systemUTC()), problems, audit, revocations,
        Clock.systemUTC(), properties.opsPeriod());
  }

  @Bean
  AdminServer adminServer(AdminProperties properties, AdminRoutes routes, ConsoleRoutes console,
      AuditVerifyRoutes verify) {
    RouterFunction<ServerResponse> router = console.publicRoutes()
        .and(routes.publicRoutes())
        .and(console.adminRoutes(routes.adminOnly()))
        .and(verify.routes(routes.adminOnly()))
        .and(routes.routes());
    HandlerStrategies strategies = HandlerStrategies.builder()
        .codecs(c -> c.defaultCodecs().maxInMemorySize((int) properties.maxBodySize().toBytes()))
        .webFilter(console.securityFilter())
        .build();
    return new AdminServer(RouterFunctions.toHttpHandler(router, strategies), properties.address(), properties.port());
  }
}

package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditQuery;
import io.portcullis.broker.RevocationStore;
import io.portcullis.broker.TokenBroker;
import io.portcullis.gateway.config.ConfigStore;
import io.portcullis.gateway.config.PolicyCompilerService;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.broker.AccessTokenVerifier;
import io.portcullis.gateway.problem.ProblemResponder;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunctions;

/** The admin API on its own port. */
@Configuration(proxyBeanMethods = false)
class AdminWiring {

  @Bean
  AdminServer adminServer(AdminProperties properties, AccessTokenVerifier verifier, ConnectionFactory connections,
      ProblemResponder problems, ConfigStore configs, PolicyCompilerService compiler, SnapshotHolder snapshots,
      RevocationStore revocations, TokenBroker broker, AuditPipeline audit) {
    AdminActions actions = new AdminActions(configs, compiler, snapshots, revocations, broker, audit);
    AdminRoutes routes = new AdminRoutes(verifier, AuditQuery.create(connections), problems, actions, configs);
    return new AdminServer(RouterFunctions.toHttpHandler(routes.routes()), properties.address(), properties.port());
  }
}

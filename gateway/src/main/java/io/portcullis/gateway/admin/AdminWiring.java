package io.portcullis.gateway.admin;

import io.portcullis.audit.AuditQuery;
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
      ProblemResponder problems) {
    AdminRoutes routes = new AdminRoutes(verifier, AuditQuery.create(connections), problems);
    return new AdminServer(RouterFunctions.toHttpHandler(routes.routes()), properties.address(), properties.port());
  }
}

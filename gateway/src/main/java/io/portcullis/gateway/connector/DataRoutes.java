package io.portcullis.gateway.connector;

import io.portcullis.gateway.connector.postgres.PostgresConnectorProperties;
import io.portcullis.gateway.connector.postgres.PostgresReader;
import io.portcullis.gateway.connector.postgres.PostgresWriter;
import io.portcullis.gateway.connector.postgres.SourcePools;
import io.portcullis.gateway.pipeline.RequestContext;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.Decision;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.PostgresSource;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The data API of DESIGN.md §6. By the time a request gets here the token, policy and quota stages have passed it
 * and left their results in its {@link RequestContext}; this picks the connector for the dataset's source.
 */
@Configuration(proxyBeanMethods = false)
class DataRoutes {

  @Bean(destroyMethod = "close")
  SourcePools sourcePools(ConnectionFactory connections, PostgresConnectorProperties properties) {
    return new SourcePools(connections, properties.sources());
  }

  @Bean
  PostgresReader postgresReader(SourcePools pools, PostgresConnectorProperties properties) {
    return new PostgresReader(pools, properties);
  }

  @Bean
  PostgresWriter postgresWriter(SourcePools pools, PostgresConnectorProperties properties) {
    return new PostgresWriter(pools, properties.statementTimeout(), PostgresWriter.DEFAULT_MAX_BODY_BYTES);
  }

  @Bean
  RouterFunction<ServerResponse> dataApi(PostgresReader reader, PostgresWriter writer) {
    return RouterFunctions.route()
        .GET("/data/{dataset}", r -> handle(r, (ds, src, d) -> reader.read(r, ds, src, d, null)))
        .GET("/data/{dataset}/{id}", r -> handle(r, (ds, src, d) -> reader.read(r, ds, src, d, r.pathVariable("id"))))
        .POST("/data/{dataset}", r -> handle(r, (ds, src, d) -> writer.create(r, ds, src, d)))
        .PATCH("/data/{dataset}/{id}", r -> handle(r, (ds, src, d) -> writer.update(r, ds, src, d, r.pathVariable("id"))))
        .DELETE("/data/{dataset}/{id}", r -> handle(r, (ds, src, d) -> writer.delete(r, ds, src, d, r.pathVariable("id"))))
        .build();
  }

  @FunctionalInterface
  private interface PostgresHandler {
    Mono<ServerResponse> handle(Dataset dataset, PostgresSource source, Decision decision);
  }

  private static Mono<ServerResponse> handle(ServerRequest request, PostgresHandler handler) {
    RequestContext ctx = RequestContext.of(request.exchange());
    Decision decision = ctx.decision();
    if (decision == null || !decision.allowed()) {
      return Mono.error(new ProblemException(ProblemCode.POLICY_DENIED, "no policy decision for this request"));
    }
    Dataset dataset = ctx.datasetModel();
    if (dataset == null) {
      return Mono.error(new ProblemException(ProblemCode.UNKNOWN_DATASET, "unknown dataset"));
    }
    if (!(dataset.source() instanceof PostgresSource source)) {
      return Mono.error(new ProblemException(ProblemCode.METHOD_NOT_ALLOWED,
          "dataset " + dataset.name() + " is served by its upstream route, not under /data"));
    }
    // Parsing throws the client's problems synchronously; defer turns them into the response's error signal.
    return Mono.defer(() -> handler.handle(dataset, source, decision));
  }
}

package io.portcullis.gateway.pipeline;

import io.portcullis.gateway.audit.AuditRecorder;
import io.portcullis.gateway.problem.ProblemResponder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;
import reactor.netty.NettyPipeline;

/**
 * Header size limits in two steps: {@code server.max-http-request-header-size} (64KB in application.yaml) is the
 * decoder's hard ceiling — nothing larger is buffered — and {@code portcullis.request.max-header-size} (16KB) the
 * product limit, checked by {@link LifecycleStage} so the refusal is an ordinary audited problem response.
 */
@Configuration(proxyBeanMethods = false)
class RequestLimitsWiring {

  private static final Logger log = LoggerFactory.getLogger(RequestLimitsWiring.class);

  @Bean
  NettyServerCustomizer headerCeilingProblems(ProblemResponder problems, AuditRecorder audit, RequestLimits limits,
      @Value("${server.max-http-request-header-size:8KB}") DataSize ceiling) {
    if (ceiling.toBytes() <= limits.maxHeaderSize().toBytes()) {
      log.warn("server.max-http-request-header-size ({}) is not above portcullis.request.max-header-size ({}): "
          + "oversized headers are refused by the decoder's ceiling instead", ceiling, limits.maxHeaderSize());
    }
    HeaderCeilingHandler handler = new HeaderCeilingHandler(problems, audit, ceiling.toBytes());
    return server -> server.doOnChannelInit((observer, channel, remote) -> {
      // HTTP/1.1 pipelines only: an h2 stream has no such decoder (its header list limit is its own setting)
      if (channel.pipeline().get(NettyPipeline.HttpCodec) != null) {
        channel.pipeline().addAfter(NettyPipeline.HttpCodec, HeaderCeilingHandler.NAME, handler);
      }
    });
  }
}

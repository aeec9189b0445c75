package io.portcullis.gateway.pipeline;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import io.portcullis.gateway.audit.AuditRecorder;
import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.gateway.problem.ProblemResponder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Sits right behind the HTTP/1.1 decoder. A header section past {@code server.max-http-request-header-size} (the hard
 * ceiling; the product limit below it is enforced by {@link LifecycleStage}) never becomes a request: Reactor Netty
 * would answer a bare 431. Here it gets the same small {@code headers_too_large} problem body and one audit event, and
 * the connection is closed (the decoder has discarded the rest of the message; nothing of it was parsed further).
 */
@ChannelHandler.Sharable
final class HeaderCeilingHandler extends ChannelInboundHandlerAdapter {

  static final String NAME = "portcullis.headerCeiling";

  private final ProblemResponder problems;
  private final AuditRecorder audit;
  private final ProblemException problem;

  HeaderCeilingHandler(ProblemResponder problems, AuditRecorder audit, long ceilingBytes) {
    this.problems = problems;
    this.audit = audit;
    this.problem = new ProblemException(ProblemCode.HEADERS_TOO_LARGE,
        "the request's header fields exceed " + ceilingBytes + " bytes in total");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpRequest request)
        || !(request.decoderResult().cause() instanceof TooLongHttpHeaderException)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ReferenceCountUtil.release(msg);
    String requestId = LifecycleStage.newRequestId();
    byte[] body = problems.body(problem, null, requestId);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, Unpooled.wrappedBuffer(body));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, ProblemResponder.PROBLEM_JSON.toString())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
        .set(LifecycleStage.REQUEST_ID_HEADER, requestId);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    audit.recordUndecoded(requestId, clientIp(ctx.channel().remoteAddress()),
        ProblemCode.HEADERS_TOO_LARGE.status().value(), ProblemCode.HEADERS_TOO_LARGE.code());
  }

  private static String clientIp(SocketAddress remote) {
    return remote instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress() : "unknown";
  }
}

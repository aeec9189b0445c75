package io.portcullis.gateway.pipeline;

import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.model.Dataset;
import io.portcullis.policy.model.HttpRoute;
import io.portcullis.policy.model.HttpSource;
import io.portcullis.policy.model.PolicyConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.RequestPath;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;

/**
 * Which requests pass through the governed stages: the data API and the admin-configured upstream route prefixes.
 * The broker's endpoints, JWKS and actuator are not data access and are not governed here.
 *
 * <p>The upstream prefixes come from the same {@link #upstreamMounts} the connector builds its Spring Cloud Gateway
 * routes from, so every routed prefix is a governed one.
 */
@Component
public final class GovernedPaths {

  private final SnapshotHolder snapshots;
  private volatile Mounts mounts = new Mounts(Long.MIN_VALUE, List.of());

  public GovernedPaths(SnapshotHolder snapshots) {
    this.snapshots = snapshots;
  }

  public boolean isGoverned(ServerWebExchange exchange) {
    RequestPath path = exchange.getRequest().getPath();
    return path.value().startsWith(DataTarget.PREFIX) || mount(matchPath(path)) != null;
  }

  /** What a governed request addresses; null when its method means nothing there (the caller answers 405). */
  public @Nullable DataTarget target(ServerHttpRequest request) {
    if (request.getPath().value().startsWith(DataTarget.PREFIX)) {
      return DataTarget.parse(request.getPath().value(), request.getMethod());
    }
    String path = matchPath(request.getPath());
    UpstreamMount mount = mount(path);
    return mount == null ? null
        : DataTarget.upstream(mount.dataset().name(), path.substring(mount.prefix().length()), request.getMethod());
  }

  /** Requests the lifecycle stage audits: everything but the broker (it audits its own events) and ops probes. */
  public boolean isAudited(ServerWebExchange exchange) {
    String path = exchange.getRequest().getPath().value();
    return !(path.startsWith("/actuator") || path.startsWith("/.well-known/") || path.startsWith("/oauth2/")
        || path.equals("/favicon.ico"));
  }

  /**
   * The path as Spring Cloud Gateway's {@code Path} predicate matches it (segments decoded, matrix parameters
   * dropped), so {@code /%63rm/x} or {@code /crm;p=1/x} is governed exactly when it is routed.
   */
  private static String matchPath(RequestPath path) {
    String raw = path.value();
    if (raw.indexOf('%') < 0 && raw.indexOf(';') < 0) {
      return raw;
    }
    StringBuilder out = new StringBuilder(raw.length());
    for (PathContainer.Element e : path.elements()) {
      out.append(e instanceof PathContainer.PathSegment segment ? segment.valueToMatch() : e.value());
    }
    return out.toString();
  }

  private @Nullable UpstreamMount mount(String path) {
    PolicySnapshot snapshot = snapshots.current();
    Mounts m = mounts;
    if (m.version() != snapshot.version()) {
      m = new Mounts(snapshot.version(), upstreamMounts(snapshot.config()));
      mounts = m;
    }
    for (UpstreamMount mount : m.list()) {
      String prefix = mount.prefix();
      if (path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/')) {
        return mount;
      }
    }
    return null;
  }

  /** An upstream route served under {@code prefix} (no trailing slash), governed as {@code dataset}. */
  public record UpstreamMount(HttpRoute route, String prefix, Dataset dataset, HttpSource source) {
  }

  private record Mounts(long version, List<UpstreamMount> list) {
  }

  private static final Pattern SAFE_PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");
  private static final List<String> RESERVED = List.of("/data", "/oauth2", "/.well-known", "/actuator", "/favicon.ico");

  /**
   * The routes that are served, longest prefix first: each with a usable prefix (plain path segments, not shadowing
   * the data API, the broker or ops endpoints) and the first dataset whose HTTP source names it. A route without a
   * dataset is not served at all: nothing could govern it.
   */
  public static List<UpstreamMount> upstreamMounts(PolicyConfig config) {
    List<UpstreamMount> out = new ArrayList<>();
    Set<String> prefixes = new HashSet<>();
    for (HttpRoute route : config.routes()) {
      String prefix = route.pathPrefix().endsWith("/")
          ? route.pathPrefix().substring(0, route.pathPrefix().length() - 1) : route.pathPrefix();
      if (!SAFE_PREFIX.matcher(prefix).matches() || reserved(prefix) || !prefixes.add(prefix)) {
        continue;
      }
      for (Dataset dataset : config.datasets()) {
        if (dataset.source() instanceof HttpSource source && source.route().equals(route.id())) {
          out.add(new UpstreamMount(route, prefix, dataset, source));
          break;
        }
      }
    }
    out.sort(Comparator.comparingInt((UpstreamMount m) -> m.prefix().length()).reversed());
    return List.copyOf(out);
  }

  private static boolean reserved(String prefix) {
    for (String r : RESERVED) {
      if (prefix.equals(r) || prefix.startsWith(r + "/") || r.startsWith(prefix + "/")) {
        return true;
      }
    }
    return false;
  }
}

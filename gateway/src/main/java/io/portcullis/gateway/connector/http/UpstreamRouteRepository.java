package io.portcullis.gateway.connector.http;

import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.gateway.pipeline.GovernedPaths;
import io.portcullis.gateway.pipeline.GovernedPaths.UpstreamMount;
import io.portcullis.policy.PolicySnapshot;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.FilterDefinition;
import org.springframework.cloud.gateway.filter.factory.RewritePathGatewayFilterFactory;
import org.springframework.cloud.gateway.handler.predicate.PredicateDefinition;
import org.springframework.cloud.gateway.route.RouteDefinition;
import org.springframework.cloud.gateway.route.RouteDefinitionRepository;
import org.springframework.cloud.gateway.support.RouteMetadataUtils;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where Spring Cloud Gateway's routes come from (STYLE.md: the {@code RouteDefinitionRepository} seam): the current
 * policy snapshot's {@code routes}, each served under its {@code path_prefix} with the prefix replaced by the path of
 * its {@code uri}. Built once per snapshot version; {@link UpstreamRouteRefresher} tells the gateway when that changes.
 * Routes are admin config, versioned in PostgreSQL: they are not written through this seam.
 */
final class UpstreamRouteRepository implements RouteDefinitionRepository {

  private static final Logger log = LoggerFactory.getLogger(UpstreamRouteRepository.class);

  /** Route metadata key naming the Portcullis route id: the mark of a governed upstream route. */
  static final String ROUTE_ID = "portcullis-route";
  /** Route metadata key: the route's timeout in milliseconds (also the idle bound between body chunks). */
  static final String TIMEOUT_MILLIS = "portcullis-timeout-ms";
  /** Route metadata key: the route's timeout as a Duration, for UpstreamReadTimeout (no conversion per request). */
  static final String READ_TIMEOUT = "portcullis-read-timeout";
  /** Route metadata key: the path prefix as configured, which the raw request path must start with literally. */
  static final String PREFIX = "portcullis-prefix";
  /** Route metadata key: dataset column to upstream query parameter ({@code filter_params}); absent when none. */
  static final String FILTER_PARAMS = "portcullis-filter-params";
  static final String ID_PREFIX = "portcullis-upstream:";

  private static final Pattern SAFE_BASE_PATH = Pattern.compile("(/[A-Za-z0-9._~!&'()*+,=:@-]+)*/?");

  private final SnapshotHolder snapshots;
  private volatile Built built = new Built(Long.MIN_VALUE, List.of());

  UpstreamRouteRepository(SnapshotHolder snapshots) {
    this.snapshots = snapshots;
  }

  @Override
  public Flux<RouteDefinition> getRouteDefinitions() {
    return Flux.defer(() -> Flux.fromIterable(current()));
  }

  /** The definitions of the current snapshot (built on the first call after a version change). */
  List<RouteDefinition> current() {
    PolicySnapshot snapshot = snapshots.current();
    Built b = built;
    if (b.version() != snapshot.version()) {
      b = new Built(snapshot.version(), build(GovernedPaths.upstreamMounts(snapshot.config())));
      built = b;
    }
    return b.definitions();
  }

  static List<RouteDefinition> build(List<UpstreamMount> mounts) {
    List<RouteDefinition> out = new ArrayList<>(mounts.size());
    for (int i = 0; i < mounts.size(); i++) {
      RouteDefinition d = definition(mounts.get(i), i);
      if (d != null) {
        out.add(d);
      }
    }
    return List.copyOf(out);
  }

  private static @Nullable RouteDefinition definition(UpstreamMount mount, int order) {
    String id = mount.route().id();
    URI uri;
    try {
      uri = new URI(mount.route().uri());
    } catch (URISyntaxException e) {
      log.warn("route {}: uri is not a URI; not served", id);
      return null;
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getRawUserInfo() != null) {
      log.warn("route {}: uri must be http(s)://host[:port][/path] without credentials; not served", id);
      return null;
    }
    String basePath = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (!SAFE_BASE_PATH.matcher(basePath).matches()) {
      log.warn("route {}: the uri's path has characters a path rewrite cannot carry; not served", id);
      return null;
    }
    if (basePath.endsWith("/")) {
      basePath = basePath.substring(0, basePath.length() - 1);
    }
    RouteDefinition d = new RouteDefinition();
    d.setId(ID_PREFIX + id);
    // scheme, host and port only: Spring Cloud Gateway takes the path from the request, rewritten below
    d.setUri(URI.create(scheme + "://" + uri.getRawAuthority()));
    d.setOrder(order); // mounts come longest prefix first
    d.setPredicates(List.of(new PredicateDefinition("Path=" + mount.prefix() + "/**")));
    FilterDefinition rewrite = new FilterDefinition();
    rewrite.setName("RewritePath");
    rewrite.addArg(RewritePathGatewayFilterFactory.REGEXP_KEY, "^" + Pattern.quote(mount.prefix()) + "/?(?<rest>.*)$");
    rewrite.addArg(RewritePathGatewayFilterFactory.REPLACEMENT_KEY, basePath + "/${rest}");
    d.setFilters(List.of(rewrite));
    long timeout = Math.max(1, mount.route().timeout().toMillis());
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put(ROUTE_ID, id);
    metadata.put(TIMEOUT_MILLIS, timeout);
    metadata.put(READ_TIMEOUT, Duration.ofMillis(timeout));
    metadata.put(PREFIX, mount.prefix());
    if (!mount.route().filterParams().isEmpty()) {
      metadata.put(FILTER_PARAMS, mount.route().filterParams());
    }
    // -1: no Spring Cloud Gateway response timeout (a Flux.timeout, its timer armed and cancelled per request: 4 % of
    // a governed request's CPU), whatever the global setting. UpstreamReadTimeout's read-timeout handler already bounds
    // the wait for the headers with the same timeout, and the silences inside the body as well.
    metadata.put(RouteMetadataUtils.RESPONSE_TIMEOUT_ATTR, -1L);
    metadata.put(RouteMetadataUtils.CONNECT_TIMEOUT_ATTR, (int) Math.min(timeout, 10_000));
    d.setMetadata(metadata);
    return d;
  }

  @Override
  public Mono<Void> save(Mono<RouteDefinition> route) {
    return Mono.error(new UnsupportedOperationException("upstream routes are admin config: change them through the admin API"));
  }

  @Override
  public Mono<Void> delete(Mono<String> routeId) {
    return Mono.error(new UnsupportedOperationException("upstream routes are admin config: change them through the admin API"));
  }

  private record Built(long version, List<RouteDefinition> definitions) {
  }
}

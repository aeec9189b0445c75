package io.portcullis.gateway.admin;

import java.time.Duration;
import java.util.Set;
import org.springframework.util.unit.DataSize;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param port    the admin API's own port (DESIGN.md §8: never the data plane's); 0 picks a free one
 * @param address interface the admin API binds to; loopback by default so it is not exposed by accident
 * @param apps    apps whose tokens carry the admin scope
 * @param maxBodySize largest request body (a whole config YAML on import/simulate: a fleet of thousands of apps and
 *                    grants is several MiB, well past WebFlux's 256 KiB default)
 * @param opsPeriod how often the live ops dashboard's stream sends a snapshot
 */
@ConfigurationProperties("portcullis.admin")
public record AdminProperties(
    @DefaultValue("8081") int port,
    @DefaultValue("127.0.0.1") String address,
    @DefaultValue("portcullis-admin") Set<String> apps,
    @DefaultValue("32MB") DataSize maxBodySize,
    @DefaultValue("1s") Duration opsPeriod) {
}

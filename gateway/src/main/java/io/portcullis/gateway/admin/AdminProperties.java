package io.portcullis.gateway.admin;

import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param port    the admin API's own port (DESIGN.md §8: never the data plane's); 0 picks a free one
 * @param address interface the admin API binds to; loopback by default so it is not exposed by accident
 * @param apps    apps whose tokens carry the admin scope
 */
@ConfigurationProperties("portcullis.admin")
public record AdminProperties(
    @DefaultValue("8081") int port,
    @DefaultValue("127.0.0.1") String address,
    @DefaultValue("portcullis-admin") Set<String> apps) {
}

package io.portcullis.gateway.admin;

import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param port the admin API's own port (DESIGN.md §8: a separate port, never exposed with the data plane)
 * @param apps apps whose tokens carry the admin scope
 */
@ConfigurationProperties("portcullis.admin")
public record AdminProperties(@DefaultValue("8081") int port, @DefaultValue("portcullis-admin") Set<String> apps) {
}

package io.portcullis.gateway.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param hashKey key of the {@code hash} mask (base64, ≥ 32 bytes); empty: generated once and kept in the database,
 *                so pseudonyms stay stable across restarts
 * @param configFile a policy YAML to import as a new version at start when it differs from the stored one (GitOps)
 */
@ConfigurationProperties("portcullis.policy")
public record PolicyProperties(@DefaultValue("") String hashKey, @DefaultValue("") String configFile) {
}

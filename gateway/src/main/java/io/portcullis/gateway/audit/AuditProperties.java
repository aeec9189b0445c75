package io.portcullis.gateway.audit;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param chainId    this instance's hash chain, stable across its restarts (a pod name); empty: host name + port
 * @param spillDir   local persistent directory for the spill file used while the sink is down
 * @param batchSize  events per sink write
 */
@ConfigurationProperties("portcullis.audit")
public record AuditProperties(
    @DefaultValue("") String chainId,
    @DefaultValue(".portcullis/audit-spill") Path spillDir,
    @DefaultValue("256") int batchSize) {
}

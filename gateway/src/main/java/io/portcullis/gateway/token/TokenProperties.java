package io.portcullis.gateway.token;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param maxInvalidPerAddress refused tokens one client address may present per window before it is answered
 *                             429 without verification
 * @param invalidWindow        the window
 */
@ConfigurationProperties("portcullis.token")
public record TokenProperties(
    @DefaultValue("100") int maxInvalidPerAddress,
    @DefaultValue("60s") Duration invalidWindow) {
}

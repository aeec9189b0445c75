package io.portcullis.loadtests;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The baseline of the load-test harness: a Spring Cloud Gateway with one passthrough route and nothing else (no
 * token, policy, quota or audit), on the same Boot, Netty and JVM as Portcullis. Route target from
 * {@code --upstream=http://127.0.0.1:PORT}; see {@code load-tests/run.sh}.
 */
@SpringBootApplication
public class BareGatewayApplication {

  public static void main(String[] args) {
    SpringApplication.run(BareGatewayApplication.class, args);
  }
}

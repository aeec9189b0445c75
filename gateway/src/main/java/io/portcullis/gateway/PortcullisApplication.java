package io.portcullis.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** One process: data-plane gateway, token broker and admin API (DESIGN.md §1). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PortcullisApplication {

  /** Reactor Netty's own setting (its default 128): how many body chunks a response's send asks for ahead. */
  static final String SEND_PREFETCH = "reactor.netty.send.maxPrefetchSize";

  static {
    // The send asks for that many chunks whatever the socket takes, so a client that stops reading a streamed export
    // made the gateway hold up to 128 chunks (megabytes per client); 16 keep the socket busy all the same. Set before
    // any response is sent (the value is read once); an operator's -D wins.
    if (System.getProperty(SEND_PREFETCH) == null) {
      System.setProperty(SEND_PREFETCH, "16");
    }
  }

  public static void main(String[] args) {
    SpringApplication.run(PortcullisApplication.class, args);
  }
}

package io.portcullis.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** One process: data-plane gateway, token broker and admin API (DESIGN.md §1). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PortcullisApplication {

  public static void main(String[] args) {
    SpringApplication.run(PortcullisApplication.class, args);
  }
}

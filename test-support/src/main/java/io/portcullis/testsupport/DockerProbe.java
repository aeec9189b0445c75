package io.portcullis.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;

/** Asks Testcontainers whether a Docker engine answers, without paying for its probe where no engine can be. */
final class DockerProbe {

  private static volatile Boolean answers;

  private DockerProbe() {
  }

  static boolean engineAnswers() {
    Boolean cached = answers;
    if (cached != null) {
      return cached;
    }
    boolean result;
    if (System.getenv("DOCKER_HOST") == null && !Files.exists(Path.of("/var/run/docker.sock"))) {
      result = false;
    } else {
      try {
        result = org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
      } catch (RuntimeException | LinkageError e) {
        result = false;
      }
    }
    answers = result;
    return result;
  }
}

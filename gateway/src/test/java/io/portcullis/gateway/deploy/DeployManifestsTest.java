package io.portcullis.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Offline validation of {@code deploy/} (no Docker engine, no cluster): every YAML parses, Kubernetes objects validate
 * against the minimal JSON Schemas in {@code deploy/schemas/}, kustomizations and compose services reference files
 * that exist, Deployments carry probes, resources, a non-root security context and a termination grace longer than
 * preStop + shutdown, and every environment variable binds to a real property of the application (Spring's own
 * relaxed binding, not a re-implementation). When {@code kubectl} is on the PATH, the overlays are also rendered and
 * the rendered objects validated.
 */
class DeployManifestsTest {

  static final Path DEPLOY = locateDeploy();
  static final Path ROOT = DEPLOY.getParent();
  static final YAMLMapper YAML = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Variables the manifests may set before the application binds them (deploy/README.md lists each): none today. */
  static final Set<String> PLANNED = Set.of();

  /** Spring Boot (not Portcullis) settings the manifests use, with the property each must bind to. */
  static final Map<String, String> SPRING_VARS = Map.of(
      "SERVER_PORT", "server.port",
      "SERVER_SHUTDOWN", "server.shutdown",
      "SERVER_FORWARD_HEADERS_STRATEGY", "server.forward-headers-strategy",
      "SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE", "spring.lifecycle.timeout-per-shutdown-phase",
      "SPRING_CONFIG_ADDITIONAL_LOCATION", "spring.config.additional-location",
      "MANAGEMENT_METRICS_DISTRIBUTION_PERCENTILESHISTOGRAM_HTTP_SERVER_REQUESTS",
      "management.metrics.distribution.percentiles-histogram[http.server.requests]",
      "SPRING_CLOUD_GATEWAY_SERVER_WEBFLUX_HTTPCLIENT_POOL_MAX_IDLE_TIME",
      "spring.cloud.gateway.server.webflux.httpclient.pool.max-idle-time");

  /** The optional variables deploy/README.md tells an overlay to add, each with a value of the kind it documents. */
  static final Map<String, String> OPTIONAL_VARS = Map.of(
      "PORTCULLIS_DATA_SOURCES_REPORTING_URL", "r2dbc:postgresql://reader:secret@reporting:5432/reporting",
      "PORTCULLIS_DATA_SOURCES_REPORTING_POOL_SIZE", "8",
      "PORTCULLIS_DATA_STATEMENT_TIMEOUT", "15s",
      "PORTCULLIS_REQUEST_MAX_HEADER_SIZE", "16KB",
      "PORTCULLIS_QUOTA_ANOMALY_ENABLED", "true",
      "PORTCULLIS_HTTP_UPSTREAM_RETRIES", "2",
      "SPRING_CLOUD_GATEWAY_SERVER_WEBFLUX_HTTPCLIENT_POOL_MAX_IDLE_TIME", "4s");

  /** Metrics the gateway emits today; the dashboard's others are listed as not yet emitted in deploy/README.md. */
  static final Set<String> EMITTED_METRICS = Set.of("http_server_requests_seconds_count",
      "http_server_requests_seconds_bucket", "jvm_memory_used_bytes", "process_cpu_usage",
      "portcullis_audit_lag_seconds", "portcullis_audit_spill_backlog", "portcullis_audit_sink_healthy",
      "portcullis_audit_written_total", "portcullis_audit_spilled_total", "portcullis_requests_throttled_total",
      "portcullis_budget_used_units", "portcullis_budget_remaining_units", "portcullis_quota_fallback",
      "portcullis_requests_total");

  static final Duration SPRING_DEFAULT_SHUTDOWN_PHASE = Duration.ofSeconds(30);

  // ---------------------------------------------------------------------------------------------------------------
  // parsing

  @Test
  void everyYamlAndJsonUnderDeployParses() {
    List<Path> yamls = files(DEPLOY, ".yaml", ".yml");
    assertThat(yamls).hasSizeGreaterThan(20);
    for (Path f : yamls) {
      assertThat(documents(f)).as("%s has at least one document", rel(f)).isNotEmpty();
    }
    for (Path f : files(DEPLOY, ".json")) {
      assertThat(json(f).isObject()).as("%s is a JSON object", rel(f)).isTrue();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Kubernetes

  @Test
  void everyKubernetesObjectHasApiVersionKindAndName() {
    List<String> errors = new ArrayList<>();
    for (Path f : files(DEPLOY.resolve("k8s"), ".yaml", ".yml")) {
      if (f.getFileName().toString().equals("kustomization.yaml")) {
        continue;
      }
      int i = 0;
      for (JsonNode doc : documents(f)) {
        String at = rel(f) + "#" + i++;
        for (String field : List.of("apiVersion", "kind")) {
          if (!doc.path(field).isString() || doc.path(field).asString().isBlank()) {
            errors.add(at + ": no " + field);
          }
        }
        if (!doc.path("metadata").path("name").isString() || doc.path("metadata").path("name").asString().isBlank()) {
          errors.add(at + ": no metadata.name");
        }
      }
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void kustomizationsReferenceFilesThatExistAndPatchObjectsTheBaseHas() {
    List<Path> kustomizations = files(DEPLOY.resolve("k8s"), "kustomization.yaml");
    assertThat(kustomizations).extracting(DeployManifestsTest::rel).contains("k8s/base/kustomization.yaml",
        "k8s/overlays/dev/kustomization.yaml", "k8s/overlays/prod/kustomization.yaml");
    List<String> errors = new ArrayList<>();
    for (Path k : kustomizations) {
      JsonNode doc = single(k);
      errors.addAll(SCHEMAS.validate(doc, "Kustomization", false).stream().map(e -> rel(k) + ": " + e).toList());
      for (JsonNode r : doc.path("resources")) {
        Path p = k.getParent().resolve(r.asString()).normalize();
        if (!Files.isRegularFile(p) && !Files.isRegularFile(p.resolve("kustomization.yaml"))) {
          errors.add(rel(k) + ": resource " + r.asString() + " does not exist");
        }
      }
      Set<String> objects = new LinkedHashSet<>();
      resourceObjects(k).forEach(o -> objects.add(identity(o)));
      for (JsonNode patch : doc.path("patches")) {
        if (!patch.has("path")) {
          continue;
        }
        Path p = k.getParent().resolve(patch.path("path").asString()).normalize();
        if (!Files.isRegularFile(p)) {
          errors.add(rel(k) + ": patch " + patch.path("path").asString() + " does not exist");
          continue;
        }
        for (JsonNode o : documents(p)) {
          if (!objects.contains(identity(o))) {
            errors.add(rel(p) + ": patches " + identity(o) + ", which the resources do not define");
          }
          ObjectNodeCopy copy = ObjectNodeCopy.without(o, "$patch");
          String kind = o.path("kind").asString();
          errors.addAll(SCHEMAS.validate(copy.node(), kind, true).stream().map(e -> rel(p) + ": " + e).toList());
        }
      }
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void baseObjectsValidateAgainstTheShippedSchemas() {
    List<JsonNode> objects = resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml"));
    assertThat(objects).extracting(o -> o.path("kind").asString()).contains("Deployment", "Service",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret", "NetworkPolicy");
    List<String> errors = new ArrayList<>();
    for (JsonNode o : objects) {
      errors.addAll(SCHEMAS.validate(o, o.path("kind").asString(), false).stream()
          .map(e -> identity(o) + ": " + e).toList());
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void deploymentsHaveProbesResourcesNonRootAndGracefulTermination() {
    List<JsonNode> objects = resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml"));
    List<String> errors = checkWorkloads(objects);
    assertThat(errors).isEmpty();
    assertThat(objects.stream().filter(o -> o.path("kind").asString().equals("Deployment")).count()).isEqualTo(2);
  }

  @Test
  void theSchemasRejectWhatTheyShould() {
    JsonNode deployment = resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml")).stream()
        .filter(o -> o.path("kind").asString().equals("Deployment")).findFirst().orElseThrow();
    String yaml = YAML.writeValueAsString(deployment);
    assertThat(SCHEMAS.validate(YAML.readTree(yaml.replace("readinessProbe:", "readinesProbe:")), "Deployment", false))
        .anySatisfy(e -> assertThat(e).contains("unknown property readinesProbe"));
    assertThat(SCHEMAS.validate(YAML.readTree(yaml.replace("containerPort: 8080", "containerPort: 80800")),
        "Deployment", false)).anySatisfy(e -> assertThat(e).contains("maximum"));
    assertThat(SCHEMAS.validate(YAML.readTree("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\n"
        + "spec: {selector: {matchLabels: {a: b}}}\n"), "PodDisruptionBudget", false)).isNotEmpty();
    assertThat(SCHEMAS.validate(YAML.readTree("apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n"
        + "spec: {selector: {a: b}, ports: [{port: 80}]}\n"), "Service", false))
        .anySatisfy(e -> assertThat(e).contains("$.metadata.name"));
  }

  @Test
  void secretsInTheRepositoryArePlaceholdersAndTheOverlaysNeverApplyThem() {
    List<String> errors = new ArrayList<>();
    for (JsonNode o : resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml"))) {
      if (o.path("kind").asString().equals("Secret")) {
        if (o.has("data")) {
          errors.add(identity(o) + ": data (base64) in the repository; use stringData placeholders");
        }
        o.path("stringData").properties().forEach(e -> {
          if (!e.getValue().asString().contains("REPLACE_ME")) {
            errors.add(identity(o) + ": " + e.getKey() + " is not a REPLACE_ME placeholder");
          }
        });
      }
    }
    for (String example : List.of(".env.example", "k8s/secrets.env.example")) {
      for (String line : lines(DEPLOY.resolve(example))) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String key = line.substring(0, line.indexOf('='));
        String value = line.substring(line.indexOf('=') + 1);
        if (!key.matches(".*(PASSWORD|KEY|SECRET|URL|URI).*")) {
          continue; // not a credential (e.g. the audit sink's name)
        }
        if (!(value.isEmpty() || value.contains("REPLACE_ME") || value.equals("change-me"))) {
          errors.add(example + ": " + line + " is not a placeholder");
        }
      }
    }
    assertThat(errors).isEmpty();
    assertThat(read(DEPLOY.resolve(".gitignore"))).contains(".env", "k8s/secrets.env");
    for (String overlay : List.of("dev", "prod")) {
      Path k = DEPLOY.resolve("k8s/overlays/" + overlay + "/kustomization.yaml");
      boolean deletes = false;
      for (JsonNode patch : single(k).path("patches")) {
        for (JsonNode o : documents(k.getParent().resolve(patch.path("path").asString()))) {
          deletes |= o.path("kind").asString().equals("Secret") && o.path("$patch").asString().equals("delete");
        }
      }
      assertThat(deletes).as("%s deletes the placeholder Secret", overlay).isTrue();
    }
  }

  /** The overlays rendered by kustomize (kubectl's), when it is installed: the result is what a cluster receives. */
  @Test
  void renderedOverlaysValidate() throws Exception {
    Optional<Path> kubectl = onPath("kubectl");
    Assumptions.assumeTrue(kubectl.isPresent(), "kubectl not on PATH: overlays not rendered");
    for (String overlay : List.of("dev", "prod")) {
      Process p = new ProcessBuilder(kubectl.get().toString(), "kustomize",
          DEPLOY.resolve("k8s/overlays/" + overlay).toString()).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String rendered = new String(out, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("kubectl kustomize %s: %s", overlay, rendered).isZero();
      List<JsonNode> objects = parseDocuments(rendered, overlay);
      List<String> errors = new ArrayList<>();
      for (JsonNode o : objects) {
        errors.addAll(SCHEMAS.validate(o, o.path("kind").asString(), false).stream()
            .map(e -> overlay + " " + identity(o) + ": " + e).toList());
        if (o.path("metadata").path("namespace").asString().isEmpty()) {
          errors.add(overlay + " " + identity(o) + ": no namespace");
        }
      }
      errors.addAll(checkWorkloads(objects));
      assertThat(errors).isEmpty();
      assertThat(objects).noneMatch(o -> o.path("kind").asString().equals("Secret"));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // compose and its side files

  @Test
  void composeValidatesAndReferencesFilesAndServicesThatExist() {
    JsonNode compose = single(DEPLOY.resolve("docker-compose.yml"));
    List<String> errors = new ArrayList<>(SCHEMAS.validate(compose, "compose", false));
    JsonNode services = compose.path("services");
    assertThat(services.propertyNames()).contains("postgres", "redis", "kafka", "gateway-1", "gateway-2", "nginx",
        "token-broker", "prometheus", "grafana");
    Set<String> namedVolumes = new TreeSet<>(compose.path("volumes").propertyNames());
    Set<String> usedVolumes = new TreeSet<>();
    for (Map.Entry<String, JsonNode> s : services.properties()) {
      for (JsonNode v : s.getValue().path("volumes")) {
        String source = v.asString().substring(0, v.asString().indexOf(':'));
        if (source.startsWith(".") || source.startsWith("/")) {
          if (!Files.exists(DEPLOY.resolve(source).normalize())) {
            errors.add(s.getKey() + ": mounts " + source + ", which does not exist under deploy/");
          }
        } else if (!namedVolumes.contains(source)) {
          errors.add(s.getKey() + ": named volume " + source + " is not declared");
        } else {
          usedVolumes.add(source);
        }
      }
      JsonNode envFile = s.getValue().path("env_file");
      for (JsonNode f : envFile.isArray() ? envFile : List.of(envFile)) {
        if (f.isString() && !Files.exists(DEPLOY.resolve(f.asString()))) {
          errors.add(s.getKey() + ": env_file " + f.asString() + " does not exist");
        }
      }
      JsonNode deps = s.getValue().path("depends_on");
      for (String d : deps.isArray() ? deps.values().stream().map(JsonNode::asString).toList() : deps.propertyNames()) {
        if (!services.has(d)) {
          errors.add(s.getKey() + ": depends on unknown service " + d);
        }
      }
    }
    assertThat(usedVolumes).as("every declared volume is used").isEqualTo(namedVolumes);

    // every ${VAR} the file interpolates is documented in .env.example
    Set<String> documented = new TreeSet<>();
    for (String line : lines(DEPLOY.resolve(".env.example"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        documented.add(line.substring(0, line.indexOf('=')));
      }
    }
    Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)").matcher(read(DEPLOY.resolve("docker-compose.yml")));
    while (m.find()) {
      if (!documented.contains(m.group(1))) {
        errors.add("${" + m.group(1) + "} is not in .env.example");
      }
    }
    assertThat(errors).isEmpty();
  }

  @Test
  void theTwoGatewayReplicasDifferOnlyInChainIdSpillVolumeAndDemoSeeding() {
    JsonNode services = single(DEPLOY.resolve("docker-compose.yml")).path("services");
    Map<String, String> one = env(services.path("gateway-1"));
    Map<String, String> two = env(services.path("gateway-2"));
    Set<String> differing = new TreeSet<>();
    for (String k : union(one.keySet(), two.keySet())) {
      if (!String.valueOf(one.get(k)).equals(String.valueOf(two.get(k)))) {
        differing.add(k);
      }
    }
    assertThat(differing).containsExactly("PORTCULLIS_AUDIT_CHAIN_ID", "PORTCULLIS_DEMO_ENABLED");
    assertThat(services.path("gateway-1").path("image")).isEqualTo(services.path("gateway-2").path("image"));
    assertThat(services.path("gateway-2").path("depends_on").has("gateway-1"))
        .as("gateway-2 waits for gateway-1 (it seeds the demo once)").isTrue();
  }

  @Test
  void imagesAreTheOnesJibBuilds() {
    String version = pomVersion();
    Map<String, String> jib = new LinkedHashMap<>();
    for (String module : List.of("gateway", "token-broker")) {
      String pom = read(ROOT.resolve(module).resolve("pom.xml"));
      int plugin = pom.indexOf("<artifactId>jib-maven-plugin</artifactId>");
      assertThat(plugin).as("%s/pom.xml configures Jib", module).isPositive();
      String pluginXml = pom.substring(plugin, pom.indexOf("</plugin>", plugin));
      assertThat(pluginXml).as("jib is never bound to a lifecycle phase").doesNotContain("<executions>");
      Matcher m = Pattern.compile("<to>\\s*<image>([^<]+)</image>").matcher(pluginXml);
      assertThat(m.find()).isTrue();
      jib.put(module, m.group(1).replace("${project.version}", version));
    }
    JsonNode services = single(DEPLOY.resolve("docker-compose.yml")).path("services");
    assertThat(services.path("gateway-1").path("image").asString()).isEqualTo(jib.get("gateway"));
    assertThat(services.path("token-broker").path("image").asString()).isEqualTo(jib.get("token-broker"));
    Set<String> k8sImages = new TreeSet<>();
    for (JsonNode o : resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml"))) {
      o.path("spec").path("template").path("spec").path("containers")
          .forEach(c -> k8sImages.add(c.path("image").asString()));
    }
    assertThat(k8sImages).containsExactlyInAnyOrderElementsOf(jib.values());
  }

  @Test
  void nginxPrometheusAndGrafanaPointAtTheComposeServices() {
    JsonNode compose = single(DEPLOY.resolve("docker-compose.yml"));
    Set<String> services = new TreeSet<>(compose.path("services").propertyNames());
    Set<String> gateways = new TreeSet<>();
    for (String s : services) {
      if (s.startsWith("gateway-")) {
        gateways.add(s + ":8080");
      }
    }
    // nginx balances over exactly the gateway replicas and hides actuator
    String nginx = read(DEPLOY.resolve("nginx/nginx.conf"));
    Set<String> upstream = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^\\s*server\\s+([a-z0-9.-]+:\\d+)").matcher(nginx);
    while (m.find()) {
      upstream.add(m.group(1));
    }
    assertThat(upstream).isEqualTo(gateways);
    assertThat(nginx).contains("location /actuator/").contains("proxy_set_header X-Forwarded-For $remote_addr;");

    // Prometheus scrapes every replica's actuator
    JsonNode scrape = single(DEPLOY.resolve("prometheus/prometheus.yml")).path("scrape_configs");
    JsonNode job = scrape.values().stream().filter(j -> j.path("job_name").asString().equals("portcullis-gateway"))
        .findFirst().orElseThrow();
    assertThat(job.path("metrics_path").asString()).isEqualTo("/actuator/prometheus");
    Set<String> targets = new TreeSet<>();
    job.path("static_configs").forEach(c -> c.path("targets").forEach(t -> targets.add(t.asString())));
    assertThat(targets).isEqualTo(gateways);
    String exposure = single(ROOT.resolve("gateway/src/main/resources/application.yaml"))
        .at("/management/endpoints/web/exposure/include").asString();
    assertThat(exposure).as("the gateway exposes what Prometheus and the probes need").contains("prometheus", "health");

    // Grafana: the provisioned datasource is the one the dashboard uses, the dashboard is where the provider looks
    JsonNode datasource = single(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yaml"))
        .path("datasources").get(0);
    assertThat(datasource.path("url").asString()).isEqualTo("http://prometheus:9090");
    JsonNode dashboard = json(DEPLOY.resolve("grafana/portcullis.json"));
    Set<String> uids = new TreeSet<>();
    dashboard.findValues("datasource").forEach(d -> uids.add(d.path("uid").asString()));
    assertThat(uids).containsExactly(datasource.path("uid").asString());
    String providerPath = single(DEPLOY.resolve("grafana/provisioning/dashboards/portcullis.yaml"))
        .path("providers").get(0).path("options").path("path").asString();
    assertThat(compose.path("services").path("grafana").path("volumes").values().stream().map(JsonNode::asString))
        .contains("./grafana/portcullis.json:" + providerPath + "/portcullis.json:ro");
  }

  @Test
  void dashboardMetricsAreEmittedOrListedAsPlannedInTheReadme() {
    String readme = read(DEPLOY.resolve("README.md"));
    Set<String> used = new TreeSet<>();
    for (JsonNode expr : json(DEPLOY.resolve("grafana/portcullis.json")).findValues("expr")) {
      Matcher m = Pattern.compile("\\b([a-z_]+_[a-z_]+)\\{|\\(([a-z]+_[a-z_]+)[{\\[)]").matcher(expr.asString());
      while (m.find()) {
        used.add(m.group(1) != null ? m.group(1) : m.group(2));
      }
    }
    assertThat(used).contains("portcullis_requests_throttled_total", "portcullis_budget_used_units",
        "portcullis_audit_lag_seconds", "http_server_requests_seconds_count");
    for (String metric : used) {
      assertThat(EMITTED_METRICS.contains(metric) || readme.contains("`" + metric + "`"))
          .as("%s is emitted today or listed in deploy/README.md as not yet emitted", metric).isTrue();
    }
    for (String metric : EMITTED_METRICS) {
      if (metric.startsWith("portcullis_")) {
        assertThat(readme).as("README lists %s", metric).contains("`" + metric + "`");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // environment variables bind to real properties

  @Test
  void everyEnvironmentVariableBindsToARealProperty() {
    Map<String, Map<String, String>> envs = new LinkedHashMap<>();
    JsonNode services = single(DEPLOY.resolve("docker-compose.yml")).path("services");
    for (String s : List.of("gateway-1", "gateway-2", "token-broker")) {
      envs.put("compose " + s, env(services.path(s)));
    }
    List<JsonNode> objects = resourceObjects(DEPLOY.resolve("k8s/base/kustomization.yaml"));
    for (JsonNode d : objects) {
      if (d.path("kind").asString().equals("Deployment")) {
        for (JsonNode c : d.at("/spec/template/spec/containers")) {
          envs.put("k8s " + d.at("/metadata/name").asString(), containerEnv(c, objects));
        }
      }
    }
    List<String> errors = new ArrayList<>();
    envs.forEach((where, env) -> errors.addAll(bindingErrors(where, env)));
    assertThat(errors).isEmpty();
    String readme = read(DEPLOY.resolve("README.md"));
    for (String planned : PLANNED) {
      assertThat(readme).as("README documents the planned %s", planned).contains(planned);
    }
  }

  @Test
  void theOptionalVariablesTheReadmeDocumentsBind() {
    assertThat(bindingErrors("README optional", OPTIONAL_VARS)).isEmpty();
    String readme = read(DEPLOY.resolve("README.md"));
    for (String var : OPTIONAL_VARS.keySet()) {
      assertThat(readme).as("README documents %s", var).contains(var.replace("REPORTING", "<NAME>"));
    }
  }

  @Test
  void theBinderCheckCatchesATypo() {
    assertThat(bindingErrors("typo", Map.of("PORTCULLIS_ADMIN_ADRESS", "0.0.0.0", "SERVER_PROT", "1")))
        .hasSize(2);
    assertThat(bindingErrors("ok", Map.of("PORTCULLIS_ADMIN_ADDRESS", "0.0.0.0",
        "PORTCULLIS_BROKER_KEY_ENCRYPTION_KEY", "x", "PORTCULLIS_DATABASE_POOL_SIZE", "4"))).isEmpty();
  }

  static List<String> bindingErrors(String where, Map<String, String> env) {
    SystemEnvironmentPropertySource source = new SystemEnvironmentPropertySource("systemEnvironment",
        new HashMap<>(env));
    Binder binder = new Binder(ConfigurationPropertySources.from(source));
    Set<String> used = new TreeSet<>();
    BindHandler track = new BindHandler() {
      @Override
      public Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
          Object result) {
        if (context.getConfigurationProperty() != null
            && context.getConfigurationProperty().getOrigin() instanceof PropertySourceOrigin origin) {
          used.add(origin.getPropertyName());
        }
        return result;
      }
    };
    List<String> errors = new ArrayList<>();
    for (Map.Entry<String, Class<?>> p : propertiesClasses().entrySet()) {
      try {
        binder.bind(p.getKey(), Bindable.of(p.getValue()), track);
      } catch (RuntimeException e) {
        errors.add(where + ": binding " + p.getKey() + " failed: " + e.getMessage());
      }
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      String var = e.getKey();
      if (var.startsWith("PORTCULLIS_")) {
        if (!used.contains(var) && !PLANNED.contains(var)) {
          errors.add(where + ": " + var + " binds to no portcullis.* property");
        }
      } else if (SPRING_VARS.containsKey(var)) {
        String property = SPRING_VARS.get(var);
        Optional<String> bound;
        int bracket = property.indexOf('[');
        if (bracket > 0) {
          bound = binder.bind(property.substring(0, bracket), Bindable.mapOf(String.class, String.class))
              .map(m -> m.get(property.substring(bracket + 1, property.length() - 1))).map(Optional::ofNullable)
              .orElse(Optional.empty());
        } else {
          bound = Optional.ofNullable(binder.bind(property, String.class).orElse(null));
        }
        if (!bound.equals(Optional.of(e.getValue()))) {
          errors.add(where + ": " + var + " does not bind to " + property + " (got " + bound + ")");
        }
      } else if (!var.equals("JAVA_TOOL_OPTIONS")) {
        errors.add(where + ": " + var + " is neither a portcullis property nor a known Spring one (SPRING_VARS)");
      }
    }
    return errors;
  }

  private static Map<String, Class<?>> propertiesClasses;

  /** Every {@code @ConfigurationProperties} class of Portcullis on the classpath, by prefix. */
  static synchronized Map<String, Class<?>> propertiesClasses() {
    if (propertiesClasses == null) {
      ClassPathScanningCandidateComponentProvider scanner = new ClassPathScanningCandidateComponentProvider(false);
      scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
      Map<String, Class<?>> found = new LinkedHashMap<>();
      for (BeanDefinition bd : scanner.findCandidateComponents("io.portcullis")) {
        try {
          Class<?> c = Class.forName(bd.getBeanClassName());
          ConfigurationProperties a = c.getAnnotation(ConfigurationProperties.class);
          found.put(a.value().isEmpty() ? a.prefix() : a.value(), c);
        } catch (ClassNotFoundException e) {
          throw new IllegalStateException(e);
        }
      }
      assertThat(found).containsKeys("portcullis.admin", "portcullis.database", "portcullis.audit",
          "portcullis.broker", "portcullis.standalone");
      propertiesClasses = found;
    }
    return propertiesClasses;
  }

  /** A container's environment as the pod would see it (ConfigMap envFrom + env; secrets as placeholders). */
  static Map<String, String> containerEnv(JsonNode container, List<JsonNode> objects) {
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode from : container.path("envFrom")) {
      if (from.has("configMapRef")) {
        String name = from.at("/configMapRef/name").asString();
        object(objects, "ConfigMap", name).path("data").properties()
            .forEach(e -> env.put(e.getKey(), e.getValue().asString()));
      }
    }
    for (JsonNode e : container.path("env")) {
      String value;
      if (e.has("value")) {
        value = e.path("value").asString();
      } else if (e.at("/valueFrom/configMapKeyRef").isObject()) {
        value = object(objects, "ConfigMap", e.at("/valueFrom/configMapKeyRef/name").asString()).path("data")
            .path(e.at("/valueFrom/configMapKeyRef/key").asString()).asString();
      } else {
        value = "placeholder";
      }
      env.put(e.path("name").asString(), value);
    }
    return env;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // workload rules

  static List<String> checkWorkloads(List<JsonNode> objects) {
    List<String> errors = new ArrayList<>();
    for (JsonNode d : objects) {
      if (!d.path("kind").asString().equals("Deployment")) {
        continue;
      }
      String at = identity(d);
      JsonNode pod = d.at("/spec/template/spec");
      if (!d.at("/spec/selector/matchLabels").isObject()) {
        errors.add(at + ": no selector.matchLabels");
      } else {
        d.at("/spec/selector/matchLabels").properties().forEach(l -> {
          if (!d.at("/spec/template/metadata/labels").path(l.getKey()).equals(l.getValue())) {
            errors.add(at + ": the pod template does not carry selector label " + l.getKey());
          }
        });
      }
      JsonNode psc = pod.path("securityContext");
      if (!psc.path("runAsNonRoot").asBoolean(false)) {
        errors.add(at + ": pod securityContext.runAsNonRoot is not true");
      }
      if (psc.path("runAsUser").asInt(0) == 0) {
        errors.add(at + ": pod securityContext.runAsUser is missing or 0");
      }
      if (pod.path("automountServiceAccountToken").asBoolean(true)) {
        errors.add(at + ": automountServiceAccountToken is not false");
      }
      long grace = pod.path("terminationGracePeriodSeconds").asInt(30);
      for (JsonNode c : pod.path("containers")) {
        String cat = at + " container " + c.path("name").asString();
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
          if (!c.path(probe).isObject()) {
            errors.add(cat + ": no " + probe);
          }
        }
        for (String kind : List.of("requests", "limits")) {
          for (String resource : List.of("cpu", "memory")) {
            if (c.path("resources").path(kind).path(resource).isMissingNode()) {
              errors.add(cat + ": no resources." + kind + "." + resource);
            }
          }
        }
        JsonNode csc = c.path("securityContext");
        if (csc.path("allowPrivilegeEscalation").asBoolean(true)) {
          errors.add(cat + ": allowPrivilegeEscalation is not false");
        }
        if (csc.path("runAsUser").isIntegralNumber() && csc.path("runAsUser").asInt() == 0) {
          errors.add(cat + ": runs as root");
        }
        if (!csc.path("capabilities").path("drop").values().stream().anyMatch(v -> v.asString().equals("ALL"))) {
          errors.add(cat + ": capabilities not dropped");
        }
        if (c.path("image").asString().contains("portcullis/gateway")) {
          if (!c.at("/readinessProbe/httpGet/path").asString().equals("/actuator/health/readiness")) {
            errors.add(cat + ": readiness is not /actuator/health/readiness");
          }
          if (!c.at("/livenessProbe/httpGet/path").asString().equals("/actuator/health/liveness")) {
            errors.add(cat + ": liveness is not /actuator/health/liveness");
          }
        }
        // preStop sleep + shutdown phase < grace period
        long sleep = preStopSleepSeconds(c.path("lifecycle").path("preStop"));
        if (sleep <= 0) {
          errors.add(cat + ": no preStop sleep (endpoints must drain before the server stops accepting)");
        }
        Map<String, String> env = containerEnv(c, objects);
        JsonNode mountedConfig = mountedApplicationYaml(c, pod, objects);
        Duration shutdown = Optional.ofNullable(env.get("SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE"))
            .or(() -> Optional.ofNullable(mountedConfig.at("/spring/lifecycle/timeout-per-shutdown-phase")
                .stringValue(null)))
            .map(DurationStyle::detectAndParse).orElse(SPRING_DEFAULT_SHUTDOWN_PHASE);
        if (grace <= sleep + shutdown.toSeconds()) {
          errors.add(cat + ": terminationGracePeriodSeconds " + grace + " <= preStop " + sleep + " s + shutdown "
              + shutdown.toSeconds() + " s");
        }
        boolean graceful = "graceful".equals(env.get("SERVER_SHUTDOWN"))
            || "graceful".equals(mountedConfig.at("/server/shutdown").stringValue(null))
            || c.path("image").asString().contains("portcullis/gateway") && "graceful".equals(
                single(ROOT.resolve("gateway/src/main/resources/application.yaml")).at("/server/shutdown")
                    .stringValue(null));
        if (!graceful) {
          errors.add(cat + ": server.shutdown is not graceful");
        }
      }
    }
    return errors;
  }

  static long preStopSleepSeconds(JsonNode preStop) {
    if (preStop.at("/sleep/seconds").isIntegralNumber()) {
      return preStop.at("/sleep/seconds").asInt();
    }
    List<String> command = preStop.at("/exec/command").values().stream().map(JsonNode::asString).toList();
    if (command.size() == 2 && command.get(0).endsWith("sleep") && command.get(1).matches("\\d+")) {
      return Long.parseLong(command.get(1));
    }
    return 0;
  }

  /** The application.yaml a container mounts from a ConfigMap at the path SPRING_CONFIG_ADDITIONAL_LOCATION names. */
  static JsonNode mountedApplicationYaml(JsonNode container, JsonNode pod, List<JsonNode> objects) {
    for (JsonNode mount : container.path("volumeMounts")) {
      for (JsonNode v : pod.path("volumes")) {
        if (v.path("name").equals(mount.path("name")) && v.path("configMap").isObject()) {
          String yaml = object(objects, "ConfigMap", v.at("/configMap/name").asString()).at("/data/application.yaml")
              .stringValue(null);
          if (yaml != null) {
            return YAML.readTree(yaml);
          }
        }
      }
    }
    return YAML.missingNode();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // helpers

  static final SchemaSet SCHEMAS = new SchemaSet(DEPLOY.resolve("schemas"));

  static Path locateDeploy() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("deploy/docker-compose.yml"))) {
        return p.resolve("deploy");
      }
    }
    throw new IllegalStateException("deploy/ not found above " + Path.of("").toAbsolutePath());
  }

  static String rel(Path p) {
    return DEPLOY.relativize(p).toString().replace('\\', '/');
  }

  static List<Path> files(Path dir, String... suffixes) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> Stream.of(suffixes).anyMatch(x -> p.getFileName().toString().endsWith(x)))
          .sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<String> lines(Path p) {
    return read(p).lines().map(String::strip).toList();
  }

  static List<JsonNode> documents(Path f) {
    return parseDocuments(read(f), rel(f));
  }

  static List<JsonNode> parseDocuments(String yaml, String where) {
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
      return it.readAll().stream().filter(d -> !d.isNull() && !d.isMissingNode()).toList();
    } catch (RuntimeException e) {
      throw new AssertionError(where + " does not parse: " + e.getMessage(), e);
    }
  }

  static JsonNode single(Path f) {
    List<JsonNode> docs = documents(f);
    assertThat(docs).as(rel(f)).hasSize(1);
    return docs.get(0);
  }

  static JsonNode json(Path f) {
    try {
      return JSON.readTree(read(f));
    } catch (RuntimeException e) {
      throw new AssertionError(rel(f) + " does not parse: " + e.getMessage(), e);
    }
  }

  static String identity(JsonNode o) {
    return o.path("kind").asString() + "/" + o.path("metadata").path("name").asString();
  }

  static JsonNode object(List<JsonNode> objects, String kind, String name) {
    return objects.stream().filter(o -> identity(o).equals(kind + "/" + name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " among the resources"));
  }

  /** The objects a kustomization's resources define, recursively (patches not applied). */
  static List<JsonNode> resourceObjects(Path kustomization) {
    List<JsonNode> objects = new ArrayList<>();
    for (JsonNode r : single(kustomization).path("resources")) {
      Path p = kustomization.getParent().resolve(r.asString()).normalize();
      if (Files.isDirectory(p)) {
        objects.addAll(resourceObjects(p.resolve("kustomization.yaml")));
      } else {
        objects.addAll(documents(p));
      }
    }
    return objects;
  }

  /** A compose service's environment after compose's interpolation: {@code ${X:-d}} is d, other {@code ${X…}} "x". */
  static Map<String, String> env(JsonNode service) {
    Map<String, String> env = new LinkedHashMap<>();
    Pattern var = Pattern.compile("\\$\\{[A-Z0-9_]+(?::-([^}]*)|[^}]*)}");
    service.path("environment").properties().forEach(e -> env.put(e.getKey(),
        var.matcher(e.getValue().asString()).replaceAll(m -> Matcher.quoteReplacement(
            m.group(1) != null ? m.group(1) : "x"))));
    return env;
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new TreeSet<>(a);
    u.addAll(b);
    return u;
  }

  static String pomVersion() {
    Matcher m = Pattern.compile("<artifactId>portcullis-parent</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(read(ROOT.resolve("gateway/pom.xml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  static Optional<Path> onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Stream.of(path.split(java.io.File.pathSeparator)).map(d -> Path.of(d, command))
        .filter(Files::isExecutable).findFirst();
  }

  /** A copy of an object node without some top-level fields. */
  record ObjectNodeCopy(JsonNode node) {
    static ObjectNodeCopy without(JsonNode o, String... fields) {
      tools.jackson.databind.node.ObjectNode copy = (tools.jackson.databind.node.ObjectNode) o.deepCopy();
      for (String f : fields) {
        copy.remove(f);
      }
      return new ObjectNodeCopy(copy);
    }
  }

  /**
   * A minimal JSON Schema (2020-12 subset) validator for the keywords the schemas in deploy/schemas use; an unknown
   * keyword fails, so a schema never looks stricter than it is. {@code patch} mode (overlay patches): no
   * {@code required}, {@code oneOf} as {@code anyOf}, and {@code null} (a strategic-merge deletion) matches anything.
   */
  static final class SchemaSet {
    private static final Set<String> ANNOTATIONS = Set.of("$schema", "title", "description", "$defs");
    private final Path dir;
    private final Map<String, JsonNode> loaded = new HashMap<>();

    SchemaSet(Path dir) {
      this.dir = dir;
    }

    synchronized JsonNode load(String file) {
      return loaded.computeIfAbsent(file, f -> {
        Path p = dir.resolve(f);
        if (!Files.isRegularFile(p)) {
          throw new AssertionError("no schema deploy/schemas/" + f);
        }
        return json(p);
      });
    }

    List<String> validate(JsonNode value, String kind, boolean patch) {
      List<String> errors = new ArrayList<>();
      String file = kind + ".schema.json";
      if (!Files.isRegularFile(dir.resolve(file))) {
        return List.of("no schema deploy/schemas/" + file + " for kind " + kind);
      }
      check(value, load(file), file, "$", errors, patch);
      return errors;
    }

    private void check(JsonNode v, JsonNode s, String file, String at, List<String> errors, boolean patch) {
      if (patch && v.isNull()) {
        return;
      }
      for (Map.Entry<String, JsonNode> k : s.properties()) {
        JsonNode arg = k.getValue();
        switch (k.getKey()) {
          case "$ref" -> {
            String ref = arg.asString();
            int hash = ref.indexOf('#');
            String target = hash == 0 ? file : ref.substring(0, hash);
            JsonNode resolved = load(target).at(ref.substring(hash + 1));
            if (resolved.isMissingNode()) {
              throw new AssertionError(file + ": unresolved $ref " + ref);
            }
            check(v, resolved, target, at, errors, patch);
          }
          case "type" -> {
            List<String> types = arg.isArray() ? arg.values().stream().map(JsonNode::asString).toList()
                : List.of(arg.asString());
            if (types.stream().noneMatch(t -> hasType(v, t))) {
              errors.add(at + ": " + v.getNodeType().toString().toLowerCase() + " (expected " + String.join("|",
                  types) + ")");
            }
          }
          case "const" -> {
            if (!v.equals(arg)) {
              errors.add(at + ": " + v + " (expected " + arg + ")");
            }
          }
          case "enum" -> {
            if (arg.values().stream().noneMatch(v::equals)) {
              errors.add(at + ": " + v + " not in " + arg);
            }
          }
          case "pattern" -> {
            if (v.isString() && !Pattern.compile(arg.asString()).matcher(v.asString()).find()) {
              errors.add(at + ": " + v + " does not match " + arg.asString());
            }
          }
          case "minLength" -> {
            if (v.isString() && v.asString().length() < arg.asInt()) {
              errors.add(at + ": shorter than " + arg.asInt());
            }
          }
          case "maxLength" -> {
            if (v.isString() && v.asString().length() > arg.asInt()) {
              errors.add(at + ": longer than " + arg.asInt());
            }
          }
          case "minimum" -> {
            if (v.isNumber() && v.asDouble() < arg.asDouble()) {
              errors.add(at + ": " + v + " < minimum " + arg);
            }
          }
          case "maximum" -> {
            if (v.isNumber() && v.asDouble() > arg.asDouble()) {
              errors.add(at + ": " + v + " > maximum " + arg);
            }
          }
          case "required" -> {
            if (v.isObject() && !patch) {
              arg.forEach(r -> {
                if (!v.has(r.asString())) {
                  errors.add(at + ": missing " + r.asString());
                }
              });
            }
          }
          case "properties" -> {
            if (v.isObject()) {
              arg.properties().forEach(p -> {
                if (v.has(p.getKey())) {
                  check(v.get(p.getKey()), p.getValue(), file, at + "." + p.getKey(), errors, patch);
                }
              });
            }
          }
          case "additionalProperties" -> {
            if (v.isObject()) {
              for (Map.Entry<String, JsonNode> p : v.properties()) {
                if (s.path("properties").has(p.getKey())) {
                  continue;
                }
                if (arg.isBoolean() && !arg.asBoolean()) {
                  errors.add(at + ": unknown property " + p.getKey());
                } else if (arg.isObject()) {
                  check(p.getValue(), arg, file, at + "." + p.getKey(), errors, patch);
                }
              }
            }
          }
          case "minProperties" -> {
            if (v.isObject() && v.size() < arg.asInt() && !patch) {
              errors.add(at + ": fewer than " + arg.asInt() + " properties");
            }
          }
          case "maxProperties" -> {
            if (v.isObject() && v.size() > arg.asInt()) {
              errors.add(at + ": more than " + arg.asInt() + " properties");
            }
          }
          case "items" -> {
            if (v.isArray()) {
              for (int i = 0; i < v.size(); i++) {
                check(v.get(i), arg, file, at + "[" + i + "]", errors, patch);
              }
            }
          }
          case "minItems" -> {
            if (v.isArray() && v.size() < arg.asInt()) {
              errors.add(at + ": fewer than " + arg.asInt() + " items");
            }
          }
          case "oneOf", "anyOf" -> {
            int matches = 0;
            List<String> first = null;
            for (JsonNode alt : arg) {
              List<String> e = new ArrayList<>();
              check(v, alt, file, at, e, patch);
              if (e.isEmpty()) {
                matches++;
              } else if (first == null) {
                first = e;
              }
            }
            boolean one = k.getKey().equals("oneOf") && !patch;
            if (matches == 0) {
              errors.add(at + ": matches none of " + k.getKey() + " (first: " + first + ")");
            } else if (one && matches > 1) {
              errors.add(at + ": matches " + matches + " alternatives of oneOf");
            }
          }
          default -> {
            if (!ANNOTATIONS.contains(k.getKey())) {
              throw new AssertionError(file + ": keyword " + k.getKey() + " is not supported by this validator");
            }
          }
        }
      }
    }

    private static boolean hasType(JsonNode v, String type) {
      return switch (type) {
        case "object" -> v.isObject();
        case "array" -> v.isArray();
        case "string" -> v.isString();
        case "integer" -> v.isIntegralNumber();
        case "number" -> v.isNumber();
        case "boolean" -> v.isBoolean();
        case "null" -> v.isNull();
        default -> throw new AssertionError("unknown type " + type);
      };
    }
  }
}

package io.portcullis.gateway.connector.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.portcullis.policy.model.Dataset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Validates write bodies against a dataset's data contract (a JSON Schema, DESIGN.md §2) with networknt, reporting
 * every violation with its JSON pointer. Schemas are compiled once per dataset and config version, so a config swap
 * brings the new contract and a request never compiles one that is already known.
 *
 * <p>A contract may only reference the bundled meta-schemas: a {@code $ref} to any other location is refused when the
 * schema is compiled, so validating a body never reaches the network or the file system (and never blocks).
 */
final class ContractValidator {

  private static final JsonMetaSchema DIALECT = JsonMetaSchema.builder(JsonMetaSchema.getV202012())
      .format(new MailboxFormat())
      .build();
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
      builder -> builder.metaSchema(DIALECT).schemaLoaders(loaders -> loaders.add(iri -> {
        // Meta-schemas are mapped to classpath: IRIs before loaders run; anything else is an external reference.
        if (!iri.toString().startsWith("classpath:")) {
          throw new IllegalArgumentException("contract references " + iri + "; only self-contained contracts are allowed");
        }
        return null;
      })));
  private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder()
      .pathType(PathType.JSON_POINTER)
      .formatAssertionsEnabled(true)
      .failFast(false)
      .build();

  private record Key(String dataset, long configVersion) {
  }

  private final Cache<Key, Optional<JsonSchema>> schemas = Caffeine.newBuilder().maximumSize(1024).build();

  /**
   * The contract's violations for {@code body}; for a PATCH ({@code partial}) a body names only the columns it
   * changes, so the root's {@code required} does not apply.
   */
  List<BodyViolation> validate(Dataset dataset, long configVersion, JsonNode body, boolean partial) {
    if (dataset.contract() == null) {
      return List.of();
    }
    Optional<JsonSchema> schema = schemas.get(new Key(dataset.name(), configVersion), k -> compile(dataset));
    if (schema.isEmpty()) {
      return List.of();
    }
    Set<ValidationMessage> messages = schema.get().validate(body);
    List<BodyViolation> violations = new ArrayList<>(messages.size());
    for (ValidationMessage m : messages) {
      String location = m.getInstanceLocation() == null ? "" : m.getInstanceLocation().toString();
      String type = m.getType();
      if (partial && "required".equals(type) && location.isEmpty()) {
        continue;
      }
      String pointer = location;
      if (m.getProperty() != null && ("required".equals(type) || "additionalProperties".equals(type)
          || "dependentRequired".equals(type) || "unevaluatedProperties".equals(type))) {
        pointer = location + BodyViolation.pointerTo(m.getProperty());
      }
      violations.add(new BodyViolation(pointer, m.getError()));
    }
    violations.sort(Comparator.comparing(BodyViolation::pointer).thenComparing(BodyViolation::message));
    return violations;
  }

  private static Optional<JsonSchema> compile(Dataset dataset) {
    String contract = dataset.contract();
    if (contract == null || contract.isBlank()) {
      return Optional.empty();
    }
    try {
      JsonSchema schema = FACTORY.getSchema(contract, CONFIG);
      // Resolve every $ref now (and fail now on a forbidden one), not lazily inside a request.
      schema.initializeValidators();
      return Optional.of(schema);
    } catch (RuntimeException e) {
      // An unusable contract is a config fault: refuse the writes (fail closed) and say why in the log.
      throw new IllegalStateException("the contract of dataset " + dataset.name() + " is not a usable JSON Schema", e);
    }
  }
}

package io.portcullis.gateway.admin;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import io.portcullis.policy.config.PolicyConfigWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One entity's create/replace/delete applied to a copy of the config tree, giving the whole YAML the change pipeline
 * compiles. The entity JSON is the entity's YAML map, validated by the same loader and compiler as a file (a
 * reference to a missing app, a bad row filter, a grant left pointing at a deleted dataset: all 422 with the
 * compiler's messages).
 */
final class EntityEdits {

  private EntityEdits() {
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> tree, EntityKind kind) {
    Object list = tree.get(kind.collection());
    return list == null ? List.of() : (List<Map<String, Object>>) list;
  }

  static @Nullable Map<String, Object> find(Map<String, Object> tree, EntityKind kind, String id) {
    for (Map<String, Object> m : list(tree, kind)) {
      if (id.equals(String.valueOf(m.get(kind.key())))) {
        return m;
      }
    }
    return null;
  }

  static String create(ConfigChanges.Base base, EntityKind kind, Map<String, Object> entity) {
    String id = idOf(kind, entity);
    Map<String, Object> tree = base.editableTree();
    if (find(tree, kind, id) != null) {
      throw new ProblemException(ProblemCode.ILLEGAL_TRANSITION, kind.singular() + " '" + id + "' already exists");
    }
    mutableList(tree, kind).add(entity);
    return PolicyConfigWriter.toYaml(tree);
  }

  static String replace(ConfigChanges.Base base, EntityKind kind, String id, Map<String, Object> entity) {
    Object bodyId = entity.get(kind.key());
    if (bodyId != null && !id.equals(String.valueOf(bodyId))) {
      throw new ProblemException(ProblemCode.INVALID_BODY, kind.key() + " '" + bodyId + "' does not match the path ('"
          + id + "'); renaming is a create and a delete");
    }
    entity.put(kind.key(), id);
    Map<String, Object> tree = base.editableTree();
    List<Map<String, Object>> list = mutableList(tree, kind);
    for (int i = 0; i < list.size(); i++) {
      if (id.equals(String.valueOf(list.get(i).get(kind.key())))) {
        list.set(i, entity);
        return PolicyConfigWriter.toYaml(tree);
      }
    }
    throw notFound(kind, id);
  }

  static String delete(ConfigChanges.Base base, EntityKind kind, String id) {
    Map<String, Object> tree = base.editableTree();
    if (!mutableList(tree, kind).removeIf(m -> id.equals(String.valueOf(m.get(kind.key()))))) {
      throw notFound(kind, id);
    }
    return PolicyConfigWriter.toYaml(tree);
  }

  /** Sets one top-level field of an existing entity (lifecycle: {@code status: retired}). */
  static String setField(ConfigChanges.Base base, EntityKind kind, String id, String field, Object value) {
    Map<String, Object> tree = base.editableTree();
    Map<String, Object> entity = find(tree, kind, id);
    if (entity == null) {
      throw notFound(kind, id);
    }
    entity.put(field, value);
    return PolicyConfigWriter.toYaml(tree);
  }

  static String idOf(EntityKind kind, Map<String, Object> entity) {
    Object id = entity.get(kind.key());
    if (!(id instanceof String s) || s.isBlank()) {
      throw new ProblemException(ProblemCode.INVALID_BODY, "the " + kind.singular() + " needs a '" + kind.key()
          + "' (a non-empty string)", null, List.of(Map.of("pointer", "/" + kind.key(), "message", "required")),
          Map.of());
    }
    return s;
  }

  static ProblemException notFound(EntityKind kind, String id) {
    return new ProblemException(ProblemCode.NOT_FOUND, "no " + kind.singular() + " '" + id + "'");
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> mutableList(Map<String, Object> tree, EntityKind kind) {
    Object list = tree.get(kind.collection());
    List<Map<String, Object>> copy = list == null ? new ArrayList<>() : new ArrayList<>((List<Map<String, Object>>) list);
    tree.put(kind.collection(), copy);
    return copy;
  }
}

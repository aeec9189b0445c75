package io.portcullis.gateway.pipeline;

import io.portcullis.policy.model.Action;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpMethod;

/**
 * What a data-API request addresses: {@code /data/{dataset}} or {@code /data/{dataset}/{id}} and the action its method
 * means (DESIGN.md §6) — or the dataset behind an upstream route prefix ({@link #upstream}).
 */
public record DataTarget(String dataset, @Nullable String id, Action action) {

  public static final String PREFIX = "/data/";

  /** Parses a data-API path; null when the path is not one (the caller answers 404/405). */
  public static @Nullable DataTarget parse(String path, HttpMethod method) {
    if (!path.startsWith(PREFIX)) {
      return null;
    }
    String rest = path.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    String dataset = slash < 0 ? rest : rest.substring(0, slash);
    String id = slash < 0 ? null : rest.substring(slash + 1);
    if (dataset.isEmpty() || (id != null && (id.isEmpty() || id.indexOf('/') >= 0))) {
      return null;
    }
    Action action;
    if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
      action = Action.READ;
    } else if (HttpMethod.POST.equals(method) && id == null) {
      action = Action.CREATE;
    } else if (HttpMethod.PATCH.equals(method) && id != null) {
      action = Action.UPDATE;
    } else if (HttpMethod.DELETE.equals(method) && id != null) {
      action = Action.DELETE;
    } else {
      return null;
    }
    return new DataTarget(dataset, id, action);
  }

  /**
   * A request under an admin-configured upstream route, governed as its dataset (DESIGN.md §6): GET/HEAD read, POST
   * creates, PUT/PATCH update, DELETE deletes; {@code rest} (the path below the route prefix) is the resource id for
   * audit. Null for any other method (the caller answers 405).
   */
  public static @Nullable DataTarget upstream(String dataset, String rest, HttpMethod method) {
    Action action;
    if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
      action = Action.READ;
    } else if (HttpMethod.POST.equals(method)) {
      action = Action.CREATE;
    } else if (HttpMethod.PUT.equals(method) || HttpMethod.PATCH.equals(method)) {
      action = Action.UPDATE;
    } else if (HttpMethod.DELETE.equals(method)) {
      action = Action.DELETE;
    } else {
      return null;
    }
    String id = rest.startsWith("/") ? rest.substring(1) : rest;
    return new DataTarget(dataset, id.isEmpty() ? null : id, action);
  }
}

package io.portcullis.policy.model;

import org.jspecify.annotations.Nullable;

/** The columns a template gives a role to; all nullable (only the template's own roles are used). */
public record TemplateColumns(
    @Nullable String owner,
    @Nullable String softDelete,
    @Nullable String state,
    @Nullable String reviewer,
    @Nullable String auditTable,
    @Nullable String createdAt) {

  public static final TemplateColumns NONE = new TemplateColumns(null, null, null, null, null, null);
}

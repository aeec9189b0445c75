package io.portcullis.gateway.token;

/** Scopes of the admin API (DESIGN.md §8): held only by apps named in {@code portcullis.admin.apps}. */
public final class AdminScopes {

  public static final String ADMIN = "portcullis:admin";

  private AdminScopes() {
  }
}

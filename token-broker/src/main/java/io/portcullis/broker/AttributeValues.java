package io.portcullis.broker;

import java.util.List;

/** What may travel in the {@code attrs} claim: String, Number, Boolean, or a List of those (TokenClaims' contract). */
final class AttributeValues {

  private AttributeValues() {}

  static boolean allowed(Object v) {
    if (scalar(v)) {
      return true;
    }
    if (v instanceof List<?> list) {
      for (Object item : list) {
        if (item == null || !scalar(item)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  private static boolean scalar(Object v) {
    return v instanceof String || v instanceof Number || v instanceof Boolean;
  }
}

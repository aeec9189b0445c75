package io.portcullis.broker;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An {@code application/x-www-form-urlencoded} body. RFC 6749 §3.2 forbids repeating a parameter, and a repeated
 * {@code scope} or {@code client_id} is a classic way to make two components read different values: refuse them.
 */
record Form(Map<String, String> params) {

  static Form parse(byte[] body) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw OAuthException.invalidRequest("request body is not UTF-8");
    }
    Map<String, String> params = new HashMap<>();
    if (text.isEmpty()) {
      return new Form(Map.of());
    }
    for (String pair : text.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (params.putIfAbsent(name, value) != null) {
        throw OAuthException.invalidRequest("parameter " + printable(name) + " repeated");
      }
    }
    return new Form(Map.copyOf(params));
  }

  /** The parameter, or null when absent or empty (RFC 6749 §3.1: empty parameters are treated as omitted). */
  @Nullable String get(String name) {
    String v = params.get(name);
    return v == null || v.isEmpty() ? null : v;
  }

  String require(String name) {
    String v = get(name);
    if (v == null) {
      throw OAuthException.invalidRequest("missing parameter " + name);
    }
    return v;
  }

  boolean has(String name) {
    return get(name) != null;
  }

  static String decode(String s) {
    try {
      return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw OAuthException.invalidRequest("malformed form encoding");
    }
  }

  private static String printable(String name) {
    String cut = name.length() > 40 ? name.substring(0, 40) : name;
    return cut.replaceAll("[^A-Za-z0-9_.:-]", "?");
  }
}

package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/**
 * Keyset cursors: the order-column values of a page's last row, as base64url JSON. A cursor only narrows the WHERE
 * clause (ANDed with the row filter), so a forged one cannot reach rows the policy hides; a malformed one is
 * {@code invalid_query}.
 */
final class Cursors {

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private Cursors() {
  }

  static String encode(List<@Nullable Object> values) {
    ArrayNode array = JSON.createArrayNode();
    for (Object v : values) {
      if (v == null) {
        array.addNull();
      } else {
        array.add(v.toString());
      }
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(array));
  }

  static List<Object> decode(String cursor, List<DataQuery.Order> order) {
    JsonNode node;
    try {
      node = JSON.readTree(Base64.getUrlDecoder().decode(cursor.getBytes(StandardCharsets.US_ASCII)));
    } catch (IllegalArgumentException | JacksonException e) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "cursor is malformed");
    }
    if (node == null || !node.isArray() || node.size() != order.size()) {
      throw new ProblemException(ProblemCode.INVALID_QUERY, "cursor does not match this query's order");
    }
    List<Object> values = new ArrayList<>(order.size());
    for (int i = 0; i < order.size(); i++) {
      JsonNode v = node.get(i);
      if (v.isNull()) {
        values.add(null);
      } else if (v.isString()) {
        DataQuery.Order o = order.get(i);
        values.add(ColumnValues.parse(o.type(), v.asString(), o.column()));
      } else {
        throw new ProblemException(ProblemCode.INVALID_QUERY, "cursor is malformed");
      }
    }
    return values;
  }
}

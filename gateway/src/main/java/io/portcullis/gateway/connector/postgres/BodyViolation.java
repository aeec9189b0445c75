package io.portcullis.gateway.connector.postgres;

import io.portcullis.gateway.problem.ProblemCode;
import io.portcullis.gateway.problem.ProblemException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One reason a write body is refused, located by an RFC 6901 JSON pointer into the body ({@code ""}: the whole). */
record BodyViolation(String pointer, String message) {

  static String pointerTo(String property) {
    return "/" + property.replace("~", "~0").replace("/", "~1");
  }

  /** The {@code invalid_body} problem listing every violation (DESIGN.md §6). */
  static ProblemException problem(List<BodyViolation> violations) {
    List<Map<String, String>> list = new ArrayList<>(violations.size());
    for (BodyViolation v : violations) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("pointer", v.pointer());
      m.put("message", v.message());
      list.add(m);
    }
    String detail = violations.size() == 1 ? violations.get(0).message()
        : violations.size() + " problems in the body; see violations";
    return new ProblemException(ProblemCode.INVALID_BODY, detail, null, list, Map.of());
  }
}

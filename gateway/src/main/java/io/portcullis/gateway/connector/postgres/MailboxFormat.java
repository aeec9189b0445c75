package io.portcullis.gateway.connector.postgres;

import com.networknt.schema.ExecutionContext;
import com.networknt.schema.Format;
import java.util.regex.Pattern;

/**
 * The contract's {@code "format": "email"}: an RFC 5321 mailbox {@code dot-atom@domain} checked by syntax only.
 * networknt's own check also requires a public top-level domain, which refuses the intranet and reserved domains
 * (such as {@code corp.example}, {@code .corp}, {@code .internal}) that company forms are full of.
 */
final class MailboxFormat implements Format {

  private static final String ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
  private static final String LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  // Dots separate the repeated groups, so matching is linear: no catastrophic backtracking on hostile input.
  private static final Pattern MAILBOX = Pattern.compile(
      ATEXT + "+(?:\\." + ATEXT + "+)*@" + LABEL + "(?:\\." + LABEL + ")*");

  @Override
  public String getName() {
    return "email";
  }

  @Override
  public String getErrorMessageDescription() {
    return "must be an e-mail address (local-part@domain)";
  }

  @Override
  public boolean matches(ExecutionContext context, String value) {
    int at = value.lastIndexOf('@');
    return value.length() <= 254 && at > 0 && at <= 64 && MAILBOX.matcher(value).matches();
  }
}

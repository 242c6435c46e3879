package dev.gitops.notify;

import java.util.Locale;

/**
 * How much a notification matters, in increasing order.
 *
 * <pre>{@code
 * Severity minimum = Severity.parse("warning");                          // as agent.yaml's minSeverity
 * NotificationFilter f = NotificationFilter.all().withMinimum(minimum);  // warnings and errors only
 * boolean sent = Event.SYNC_FAILED.severity().compareTo(minimum) >= 0;   // true: ERROR ranks above WARNING
 * }</pre>
 */
public enum Severity {
  /** Things went as they should (a sync started or succeeded). */
  INFO,
  /** Worth a look: drift, an incomplete plan. */
  WARNING,
  /** Something failed or was refused. */
  ERROR;

  /** The name in lower case, as in configuration and JSON. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The severity named {@code text} ({@code info}, {@code warning}, {@code error}; any case).
   *
   * @throws IllegalArgumentException naming the text and the choices
   */
  public static Severity parse(String text) {
    for (Severity s : values()) {
      if (s.wireName().equalsIgnoreCase(text)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown severity '" + text + "' (one of: info, warning, error)");
  }
}

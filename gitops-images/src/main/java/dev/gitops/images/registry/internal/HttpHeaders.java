package dev.gitops.images.registry.internal;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading the response headers the registry protocol relies on: {@code Link} and {@code Retry-After}. */
public final class HttpHeaders {

  private static final Pattern LINK = Pattern.compile("<([^>]*)>\\s*((?:;\\s*[^;,]+)*)");
  private static final Pattern REL_NEXT = Pattern.compile(";\\s*rel\\s*=\\s*\"?([^\";]*)\"?");

  private HttpHeaders() {}

  /**
   * The {@code rel="next"} target of the {@code Link} header values, resolved against {@code
   * requestUri} (registries send relative links such as {@code </v2/web/tags/list?last=b&n=2>}, or
   * only the query, {@code <?last=b&n=2>}, which is the same path: see {@link #resolve}).
   */
  public static Optional<URI> nextLink(List<String> linkValues, URI requestUri) {
    for (String value : linkValues) {
      Matcher m = LINK.matcher(value);
      while (m.find()) {
        Matcher rel = REL_NEXT.matcher(m.group(2));
        while (rel.find()) {
          for (String r : rel.group(1).trim().split("\\s+")) {
            if (r.equalsIgnoreCase("next")) {
              return Optional.of(resolve(requestUri, m.group(1).trim()));
            }
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * {@code reference} resolved against {@code base} as RFC 3986 (section 5.2) resolves it. {@link
   * URI#resolve} follows RFC 2396, which takes a reference of a query alone ({@code ?last=b}) or an
   * empty one relative to the base's directory ({@code /v2/web/tags/?last=b}); RFC 3986 keeps the
   * base's path ({@code /v2/web/tags/list?last=b}). Any other reference resolves as {@link
   * URI#resolve} has it.
   *
   * @throws IllegalArgumentException when {@code reference} is no URI
   */
  public static URI resolve(URI base, String reference) {
    if (reference.isEmpty() || reference.startsWith("?") || reference.startsWith("#")) {
      // a query replaces the base's; none (an empty reference, a fragment) keeps it
      String keep = !reference.startsWith("?") && base.getRawQuery() != null ? "?" + base.getRawQuery() : "";
      return URI.create(base.getScheme() + "://" + base.getRawAuthority() + base.getRawPath() + keep + reference);
    }
    return base.resolve(reference);
  }

  /**
   * The delay a {@code Retry-After} value asks for: delta seconds or an HTTP date (a date in the
   * past is zero); empty when absent or unreadable.
   */
  public static Optional<Duration> retryAfter(Optional<String> value, Clock clock) {
    if (value.isEmpty()) {
      return Optional.empty();
    }
    String v = value.get().trim();
    if (v.matches("\\d+")) {
      // any number of digits: a delay of years is one to refuse, not an unreadable value to ignore
      return Optional.of(Duration.ofSeconds(v.length() > 18 ? Long.MAX_VALUE : Long.parseLong(v)));
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration d = Duration.between(clock.instant(), at.toInstant());
      return Optional.of(d.isNegative() ? Duration.ZERO : d);
    } catch (DateTimeParseException e) {
      return Optional.empty();  // an unreadable value: the client's own backoff applies
    }
  }
}

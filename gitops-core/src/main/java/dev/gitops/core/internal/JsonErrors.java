package dev.gitops.core.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.regex.Pattern;

/**
 * Jackson's parse errors as one line a user can read. Jackson's own message of an array or object
 * left open ends in its location's debug form, {@code (start marker at [Source: REDACTED
 * (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 24])}; here that reads
 * {@code (start marker at line 1, column 24)}.
 *
 * <pre>{@code
 * try {
 *   new ObjectMapper().readTree("{\"changes\": [");
 * } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
 *   // plan.json is not valid JSON at line 1, column 14: Unexpected end-of-input: expected close
 *   // marker for Array (start marker at line 1, column 13)
 *   throw new IllegalArgumentException("plan.json is not valid JSON" + JsonErrors.at(e) + ": "
 *       + JsonErrors.problem(e), e);
 * }
 * }</pre>
 */
public final class JsonErrors {

  /** A location in Jackson's debug form, whatever its source description says. */
  private static final Pattern LOCATION = Pattern.compile("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)]");

  private JsonErrors() {}

  /** The first line of {@code e}'s own message (without the location Jackson appends), locations in words. */
  public static String problem(JsonProcessingException e) {
    return problem(e.getOriginalMessage());
  }

  /** {@code message} (a Jackson exception's {@code getOriginalMessage()}), its first line, locations in words. */
  public static String problem(String message) {
    if (message == null || message.isBlank()) {
      return "syntax error";
    }
    return LOCATION.matcher(message.lines().findFirst().orElse("").strip()).replaceAll("line $1, column $2");
  }

  /**
   * What went wrong reading a document: for Jackson's parse errors their {@linkplain #problem
   * problem} and {@linkplain #at place}, for any other failure its message.
   */
  public static String describe(java.io.IOException e) {
    return e instanceof JsonProcessingException j ? problem(j) + at(j) : e.getMessage();
  }

  /** {@code " at line L, column C"} where {@code e} happened; "" when Jackson does not say. */
  public static String at(JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() <= 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }
}

package dev.gitops.core.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

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

  /**
   * The first line of {@code e}'s own message (without the location Jackson appends), locations in
   * words. For Jackson's YAML parser, SnakeYAML's context and problem ({@code while scanning for the
   * next token: found character '\t' that cannot start any token}): the first line of its message
   * is the context alone.
   */
  public static String problem(JsonProcessingException e) {
    if (e.getCause() instanceof MarkedYAMLException y && y.getProblem() != null) {
      return (y.getContext() == null ? "" : y.getContext() + ": ") + y.getProblem().strip();
    }
    return problem(e.getOriginalMessage());
  }

  /**
   * The line (from 1) where {@code e} happened, or 0 when Jackson does not say: for YAML, the line
   * of SnakeYAML's problem, which may be past the line its context starts on.
   */
  public static int line(JsonProcessingException e) {
    Mark m = problemMark(e);
    if (m != null) {
      return m.getLine() + 1;
    }
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() <= 0 ? 0 : at.getLineNr();
  }

  private static Mark problemMark(JsonProcessingException e) {
    return e.getCause() instanceof MarkedYAMLException y ? y.getProblemMark() : null;
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
    Mark m = problemMark(e);
    if (m != null) {
      return " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1);
    }
    JsonLocation at = e.getLocation();
    return at == null || at.getLineNr() <= 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
  }
}

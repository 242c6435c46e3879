package dev.gitops.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class JsonErrorsTest {

  private static JsonProcessingException parse(String text) {
    return catchThrowableOfType(JsonProcessingException.class, () -> new ObjectMapper().readTree(text));
  }

  @Test
  void anArrayLeftOpenSaysWhereItStartedInWordsNotJacksonsDebugForm() {
    JsonProcessingException e = parse("{\"a\": [\n");
    assertThat(e.getOriginalMessage()).contains("[Source: ");  // what users saw
    assertThat(JsonErrors.problem(e))
        .matches("Unexpected end-of-input: expected close marker for Array \\(start marker at line 1, column \\d+\\)");
    assertThat(JsonErrors.at(e)).matches(" at line 2, column \\d+");
  }

  @Test
  void otherProblemsAreTheirFirstLineAndNothingBecomesSyntaxError() {
    JsonProcessingException e = parse("{\"a\": tru}");
    assertThat(JsonErrors.problem(e)).startsWith("Unrecognized token 'tru'").doesNotContain("\n");
    assertThat(JsonErrors.at(e)).matches(" at line 1, column \\d+");
    assertThat(JsonErrors.problem((String) null)).isEqualTo("syntax error");
    assertThat(JsonErrors.problem(" ")).isEqualTo("syntax error");
  }

  @Test
  void aFailureThatIsNoParseErrorIsDescribedByItsMessage() {
    JsonProcessingException e = parse("{\"a\": [\n");
    assertThat(JsonErrors.describe(e)).isEqualTo(JsonErrors.problem(e) + JsonErrors.at(e)).doesNotContain("[Source");
    assertThat(JsonErrors.describe(new java.io.IOException("disk gone"))).isEqualTo("disk gone");
  }

  @Test
  void aYamlErrorIsSnakeYamlsContextAndProblemAtTheProblemsLine() {
    ObjectMapper yaml = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    JsonProcessingException tab = catchThrowableOfType(JsonProcessingException.class,
        () -> yaml.readTree("targets:\n  - name: web\n    interval: 5s\n\tprune: true\n"));
    // Jackson's first line is the context alone ("while scanning for the next token"), at the context's line
    assertThat(JsonErrors.problem(tab))
        .isEqualTo("while scanning for the next token: found character '\\t(TAB)' that cannot start any token."
            + " (Do not use \\t(TAB) for indentation)");
    assertThat(JsonErrors.line(tab)).isEqualTo(4);
    assertThat(JsonErrors.at(tab)).isEqualTo(" at line 4, column 1");
    JsonProcessingException open = catchThrowableOfType(JsonProcessingException.class, () -> yaml.readTree("targets: [\n"));
    assertThat(JsonErrors.problem(open)).startsWith("while parsing a flow node: expected the node content, but found");
    assertThat(JsonErrors.line(open)).isEqualTo(2);
    assertThat(JsonErrors.line(parse("{\"a\": [\n"))).as("JSON: Jackson's location").isEqualTo(2);
  }
}

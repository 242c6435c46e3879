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
}

package dev.gitops.core.redact;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScrubberTest {

  @Test
  void hidesEachSecretAsWrittenJsonEscapedAndLineByLineLongestFirst() {
    Scrubber s = Scrubber.of(List.of("pem-line-one\npem-line-two", "secret", "secret-longer"));
    String text = "a=secret-longer b=secret json=\"pem-line-one\\npem-line-two\" raw=pem-line-one\npem-line-two"
        + " alone: pem-line-two";
    assertThat(s.scrub(text)).isEqualTo("a=(sensitive) b=(sensitive) json=\"(sensitive)\" raw=(sensitive)"
        + " alone: (sensitive)");
  }

  @Test
  void hidesTellsWhetherATextHoldsASecret() {
    Scrubber s = Scrubber.of(List.of("hunter2-pw", "abc"));
    assertThat(s.hides("postgres://app:hunter2-pw@db/app")).isTrue();
    assertThat(s.hides("hunter2-pw")).isTrue();
    assertThat(s.hides("hunter2")).isFalse();
    assertThat(s.hides("abc abc")).as("a value too short to hide is not a secret here either").isFalse();
    assertThat(s.hides(null)).isFalse();
    assertThat(Scrubber.none().hides("hunter2-pw")).isFalse();
    Scrubber port = Scrubber.of(List.of("5432", "hunter2-pw"));
    assertThat(port.hides("db.example.com:5432", 8)).as("a short secret inside a text: not with 8").isFalse();
    assertThat(port.hides("5432", 8)).as("the secret itself").isTrue();
    assertThat(port.hides("u:hunter2-pw@db", 8)).isTrue();
    assertThat(port.hides("db.example.com:5432")).isTrue();
  }

  @Test
  void shortAndBlankValuesAreLeftAndNothingToHideIsTheSameText() {
    Scrubber s = Scrubber.of(Arrays.asList("abc", "   ", null, "four"));
    assertThat(s.scrub("abc four five")).isEqualTo("abc (sensitive) five");
    String clean = "nothing here";
    assertThat(s.scrub(clean)).isSameAs(clean);
    assertThat(s.scrub(null)).isNull();
    assertThat(Scrubber.of(List.of("ab", "  ")).isEmpty()).isTrue();
    assertThat(Scrubber.none().scrub("four")).isEqualTo("four");
  }

  @Test
  void valuesGiveTheirScalarsExceptSkippedSubtrees() {
    JsonNode doc = RedactorTest.j("{'user':'admin-user','port':54321,'on':true,'vault':{'$vault':'cipher-text'},"
        + "'list':['item-one',12]}");
    Scrubber s = Scrubber.none().withValues(List.of(doc), v -> v.has("$vault"));
    assertThat(s.scrub("admin-user 54321 true cipher-text item-one 12"))
        .isEqualTo("(sensitive) (sensitive) (sensitive) cipher-text (sensitive) 12");
    assertThat(s.with(List.of("cipher-text")).scrub("cipher-text admin-user")).isEqualTo("(sensitive) (sensitive)");
  }
}

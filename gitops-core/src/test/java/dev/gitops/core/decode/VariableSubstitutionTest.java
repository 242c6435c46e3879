package dev.gitops.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Origin;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class VariableSubstitutionTest {

  private final VariableSubstitution vars = VariableSubstitution.of(Map.of("ENV", "prod", "REPLICAS", "3"));

  @Test
  void substitutesKnownVariables() {
    assertThat(vars.apply("name: web-${ENV}\nreplicas: ${REPLICAS}\n", "a.yaml", "r"))
        .isEqualTo("name: web-prod\nreplicas: 3\n");
  }

  @Test
  void unknownVariableNamesFileLineAndVariable() {
    assertThatThrownBy(() -> vars.apply("a: 1\nb: 2\nc: ${NOPE}\n", "apps/x.yaml", "main@sha1:abc"))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin()).isEqualTo(Origin.of("apps/x.yaml", 3, "main@sha1:abc"));
          assertThat(e.getMessage()).contains("${NOPE}").contains("ENV, REPLICAS");
        });
  }

  @Test
  void doubleDollarEscapesAReference() {
    assertThat(vars.apply("cmd: echo $${HOME} ${ENV} $$ $x\n", "a.yaml", "r"))
        .isEqualTo("cmd: echo ${HOME} prod $$ $x\n");
  }

  @Test
  void malformedReferenceIsAnErrorWithLine() {
    assertThatThrownBy(() -> vars.apply("ok\n${ENV\n", "a.yaml", "r"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("a.yaml:2").hasMessageContaining("malformed");
    assertThatThrownBy(() -> vars.apply("x: ${1ABC}", "a.yaml", "r"))
        .isInstanceOf(DecodeException.class).hasMessageContaining("${1ABC}");
  }

  @Test
  void valuesWithLineBreaksOrBadNamesAreRefused() {
    assertThatThrownBy(() -> VariableSubstitution.of(Map.of("A", "x\ny")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A");
    assertThatThrownBy(() -> VariableSubstitution.of(Map.of("A-B", "x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A-B");
  }

  @Test
  void valuesWithAnyLineBreakYamlKnowsAreRefusedWithoutShowingTheValue() {
    // NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR are line breaks to YAML (SnakeYAML counts them):
    // substituted, they would move every later line away from the line number in Git
    for (String brk : new String[] {"\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029"}) {
      assertThatThrownBy(() -> VariableSubstitution.of(Map.of("TOKEN", "s3cret" + brk + "tail")))
          .as("a value holding U+%04X", (int) brk.charAt(0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("TOKEN").hasMessageContaining("line break")
          .hasMessageContaining(String.format("U+%04X", (int) brk.charAt(0)))
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
    }
    assertThat(VariableSubstitution.of(Map.of("A", "caf\u00e9 \u00a0\t x")).variables()).containsEntry("A", "caf\u00e9 \u00a0\t x");
  }

  @Test
  void linesAreCountedWithLoneCrAndCrLfLineEndsAsAnEditorShowsThem() {
    for (String eol : new String[] {"\n", "\r\n", "\r"}) {
      String text = String.join(eol, "a: 1", "b: ${ENV}", "c: $${X}", "d: 2", "e: ${NOPE}", "");
      assertThatThrownBy(() -> vars.apply(text, "apps/x.yaml", "r")).as("line ends %s", eol.replace("\r", "CR").replace("\n", "LF"))
          .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.origin().line()).isEqualTo(5));
      String malformed = String.join(eol, "a: 1", "", "b: ${ENV", "c: 3", "");
      assertThatThrownBy(() -> vars.apply(malformed, "apps/y.yaml", "r"))
          .isInstanceOfSatisfying(DecodeException.class, e -> {
            assertThat(e.origin().line()).isEqualTo(3);
            assertThat(e.getMessage()).as("the reference shown stops at the line's end").contains("'${ENV'")
                .doesNotContain("c: 3");
          });
    }
    // an escape whose literal spans line ends counts them too
    assertThatThrownBy(() -> vars.apply("a: $${X\r\rb}\r${NOPE}", "f.yaml", "r"))
        .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.origin().line()).isEqualTo(4));
  }

  @Test
  void aFileThatIsNotUtf8NamesTheLineAndAUtf16FileGetsAHint() {
    byte[] latin1 = "a: 1\rb: caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThatThrownBy(() -> vars.apply(new dev.gitops.api.spi.SourceFile("l.yaml", "b", latin1, "r")))
        .isInstanceOfSatisfying(DecodeException.class, e -> {
          assertThat(e.origin().line()).isEqualTo(2);
          assertThat(e.getMessage()).contains("not valid UTF-8");
        });
    byte[] utf16 = "\uFEFFa: ${ENV}\n".getBytes(java.nio.charset.StandardCharsets.UTF_16LE);
    assertThatThrownBy(() -> vars.apply(new dev.gitops.api.spi.SourceFile("w.yaml", "b", utf16, "r")))
        .isInstanceOf(DecodeException.class).hasMessageContaining("w.yaml").hasMessageContaining("UTF-16")
        .hasMessageContaining("save it as UTF-8");
  }

  @Test
  void digestDependsOnNamesAndValuesAndToStringHidesValues() {
    assertThat(VariableSubstitution.of(Map.of("A", "1")).digest())
        .isNotEqualTo(VariableSubstitution.of(Map.of("A", "2")).digest())
        .isEqualTo(VariableSubstitution.of(Map.of("A", "1")).digest());
    assertThat(VariableSubstitution.of(Map.of("TOKEN", "s3cret")).toString()).doesNotContain("s3cret");
  }

  @Property(tries = 300)
  void anUndefinedVariableIsReportedAtItsLineWhateverTheMixOfLineEnds(
      @ForAll @net.jqwik.api.constraints.Size(max = 12) java.util.List<@StringLength(min = 1, max = 6) @CharRange(from = 'a', to = 'e') String> lines,
      @ForAll @net.jqwik.api.constraints.Size(max = 12) java.util.List<@net.jqwik.api.constraints.IntRange(max = 2) Integer> ends) {
    StringBuilder text = new StringBuilder();
    for (int k = 0; k < lines.size(); k++) {
      text.append(lines.get(k)).append(k < ends.size() ? new String[] {"\n", "\r\n", "\r"}[ends.get(k)] : "\n");
    }
    text.append("x: ${ENV} ${NOPE}\n");
    assertThatThrownBy(() -> vars.apply(text.toString(), "f.yaml", "r"))
        .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.origin().line()).isEqualTo(lines.size() + 1));
  }

  @Property
  void textWithoutDollarIsUnchanged(@ForAll @StringLength(max = 200) @CharRange(from = ' ', to = '#') String text) {
    assertThat(vars.apply(text, "f", "r")).isEqualTo(text);
  }

  @Property
  void escapedReferencesRoundTripToLiteral(@ForAll @StringLength(min = 1, max = 20) @CharRange(from = 'A', to = 'Z') String name) {
    assertThat(vars.apply("$${" + name + "}", "f", "r")).isEqualTo("${" + name + "}");
  }
}

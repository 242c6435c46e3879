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
  void digestDependsOnNamesAndValuesAndToStringHidesValues() {
    assertThat(VariableSubstitution.of(Map.of("A", "1")).digest())
        .isNotEqualTo(VariableSubstitution.of(Map.of("A", "2")).digest())
        .isEqualTo(VariableSubstitution.of(Map.of("A", "1")).digest());
    assertThat(VariableSubstitution.of(Map.of("TOKEN", "s3cret")).toString()).doesNotContain("s3cret");
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

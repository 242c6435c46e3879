package dev.gitops.ansible;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A null given to the public builder is refused at once, naming the argument, never later as a bare NPE. */
class BuilderArgumentsTest {

  @Test
  void nullSensitiveVariableNamesAreRefusedNamingTheArgument() {
    assertThatThrownBy(() -> AnsibleProvider.builder().sensitiveVariables((String[]) null))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("sensitiveVariables");
  }

  @Test
  void anEnvironmentWithANullNameOrValueIsRefusedNamingTheVariable() {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", null);
    assertThatThrownBy(() -> AnsibleProvider.builder().environment(env))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("environment").hasMessageContaining("HOME");
    Map<String, String> noName = new HashMap<>();
    noName.put(null, "x");
    assertThatThrownBy(() -> AnsibleProvider.builder().environment(noName))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("environment");
  }

  @Test
  void extraVarsWithANullNameAreRefusedNamingTheArgument() {
    Map<String, Object> vars = new HashMap<>();
    vars.put(null, "x");
    assertThatThrownBy(() -> AnsibleProvider.builder().extraVars(vars))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("extraVars");
  }
}

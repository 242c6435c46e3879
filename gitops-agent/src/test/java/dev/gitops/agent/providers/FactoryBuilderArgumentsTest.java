package dev.gitops.agent.providers;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The public {@code builder} methods the CLI shares with the agent refuse a null at once, naming
 * the argument, as the providers' own builders do: never a bare NullPointerException.
 */
class FactoryBuilderArgumentsTest {

  private static final Path WORK = Path.of("/tmp/gitops-never-created");

  @Test
  void terraformBuilderNamesANullArgument() {
    assertThatThrownBy(() -> TerraformProviderFactory.builder(null, "terraform", Map.of(), List.of()))
        .isInstanceOf(NullPointerException.class).hasMessage("directory");
    assertThatThrownBy(() -> TerraformProviderFactory.builder(WORK, null, Map.of(), List.of()))
        .isInstanceOf(NullPointerException.class).hasMessage("binary");
    assertThatThrownBy(() -> TerraformProviderFactory.builder(WORK, "terraform", null, List.of()))
        .isInstanceOf(NullPointerException.class).hasMessage("variables");
    assertThatThrownBy(() -> TerraformProviderFactory.builder(WORK, "terraform", Map.of(), null))
        .isInstanceOf(NullPointerException.class).hasMessage("varFiles");
  }

  @Test
  void ansibleBuilderNamesANullArgument() {
    assertThatThrownBy(() -> AnsibleProviderFactory.builder(null, "site.yml", WORK.resolve("hosts.yml")))
        .isInstanceOf(NullPointerException.class).hasMessage("inventory");
    assertThatThrownBy(() -> AnsibleProviderFactory.builder("inventory", null, WORK.resolve("hosts.yml")))
        .isInstanceOf(NullPointerException.class).hasMessage("playbook");
    assertThatThrownBy(() -> AnsibleProviderFactory.builder("inventory", "site.yml", null))
        .isInstanceOf(NullPointerException.class).hasMessage("inventoryOut");
  }
}

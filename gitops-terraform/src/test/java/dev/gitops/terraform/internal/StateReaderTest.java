package dev.gitops.terraform.internal;

import static dev.gitops.terraform.internal.PlanReaderTest.key;
import static dev.gitops.terraform.internal.PlanReaderTest.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.FieldPath;
import dev.gitops.terraform.TerraformException;
import dev.gitops.terraform.internal.StateReader.TfState;
import org.junit.jupiter.api.Test;

/** Version 4 state files and the state representation of show -json. */
class StateReaderTest {

  @Test
  void aVersionFourStateIsReadWithLineageSerialModulesIndexesDeposedAndDataSources() {
    TfState s = StateReader.v4("tf", resource("state-full.tfstate"), "state-full");
    assertThat(s.lineage()).isEqualTo("9b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
    assertThat(s.serial()).isEqualTo(7);
    assertThat(s.token()).isEqualTo("9b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/7");
    assertThat(s.objects()).containsKeys(key("random_pet", "", "name"), key("random_password", "", "db"),
        key("aws_subnet", "module.net", "a[\"eu-west-1a\"]"), key("aws_instance", "", "count[0]"),
        key("aws_instance", "", "count[0] deposed=00000001"), key("data.aws_ami", "", "ubuntu"));
    assertThat(s.objects().get(key("random_pet", "", "name")).attributes().get("id").asText()).isEqualTo("happy-cat");
    assertThat(s.outputs().get("name").value().asText()).isEqualTo("happy-cat");
  }

  @Test
  void sensitiveAttributesAndOutputsAreHiddenAndRememberedForScrubbing() {
    TfState s = StateReader.v4("tf", resource("state-after.tfstate"), "state-after");
    var pw = s.objects().get(key("random_password", "", "db"));
    assertThat(pw.sensitive()).containsExactlyInAnyOrder(FieldPath.of("result"), FieldPath.of("bcrypt_hash"));
    assertThat(pw.attributes().toString()).doesNotContain("Zq9!pass-word-XyZ").doesNotContain("hash-of-secret");
    assertThat(s.outputs().get("password").sensitive()).isTrue();
    assertThat(s.outputs().get("password").value().asText()).isEqualTo("(sensitive)");
    assertThat(s.secrets()).contains("Zq9!pass-word-XyZ", "$2a$10$hash-of-secret");
    TfState full = StateReader.v4("tf", resource("state-full.tfstate"), "state-full");
    assertThat(full.objects().get(key("aws_subnet", "module.net", "a[\"eu-west-1a\"]")).attributes().get("tags")
        .get("k").asText()).as("a sensitive map element by key").isEqualTo("(sensitive)");
  }

  @Test
  void anotherStateVersionIsRefusedNamingIt() {
    assertThatThrownBy(() -> StateReader.v4("tf", resource("state-v3.tfstate"), "the state file x"))
        .isInstanceOf(TerraformException.class).hasMessageContaining("the state file x")
        .hasMessageContaining("version 3").hasMessageContaining("version 4");
    assertThat(StateReader.v4("tf", new byte[0], "empty").token()).isEqualTo("-/0");
  }

  @Test
  void theStateRepresentationIsReadWithChildModulesAndMasks() {
    TfState s = StateReader.representation("tf", resource("state-show.json"));
    assertThat(s.objects()).containsKeys(key("random_pet", "", "name"), key("random_password", "", "db"),
        key("aws_subnet", "module.net", "a[\"eu-west-1a\"]"));
    assertThat(s.objects().get(key("random_password", "", "db")).attributes().get("result").asText())
        .isEqualTo("(sensitive)");
    assertThat(s.outputs().get("password").value().asText()).isEqualTo("(sensitive)");
    assertThat(s.secrets()).contains("Zq9!pass-word-XyZ");
  }
}

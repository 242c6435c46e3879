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

  /**
   * Recorded from Terraform 1.11.4 (the state file and {@code show -json}): {@code
   * terraform_data}'s computed {@code output} copies its sensitive {@code input} unmarked.
   */
  @Test
  void anAttributeHoldingASecretIsHiddenInBothStateFormatsAndNotHandedOn() {
    for (TfState s : java.util.List.of(
        StateReader.v4("tf", resource("state-secret-copies-1.11.tfstate"), "recorded"),
        StateReader.representation("tf", resource("state-secret-copies-1.11.json")))) {
      assertThat(s.objects().get(key("terraform_data", "", "plain")).attributes().get("output").asText())
          .as("a value of a dynamic type as show -json shows it, not the state file's {value, type}")
          .isEqualTo("nothing secret here");
      var copy = s.objects().get(key("terraform_data", "", "s"));
      var url = s.objects().get(key("terraform_data", "", "url"));
      assertThat(copy.sensitive()).contains(FieldPath.of("input"), FieldPath.of("output"));
      assertThat(url.sensitive()).contains(FieldPath.of("output"));
      assertThat(copy.attributes().toString() + url.attributes()).doesNotContain("s3cr3t-old-pw");
      assertThat(s.objects().get(key("terraform_data", "", "plain")).attributes().toString())
          .contains("nothing secret here");
      // the output declassified with nonsensitive() is handed on as Terraform declares it
      assertThat(s.outputs().get("declassified").sensitive()).isFalse();
      assertThat(s.outputs().get("declassified").value().asText()).isEqualTo("s3cr3t-old-pw");
      assertThat(s.outputs().get("tok").sensitive()).isTrue();
    }
    TfState known = StateReader.v4("tf", resource("state-secret-copies-1.11.tfstate"), "recorded",
        dev.gitops.core.redact.Scrubber.of(java.util.List.of("secret here")));
    assertThat(known.objects().get(key("terraform_data", "", "plain")).attributes().toString())
        .as("a secret the provider knows from elsewhere").doesNotContain("secret here");
  }

  /**
   * Recorded from Terraform 1.11.4: an object of a dynamic type with a sensitive field and list
   * element. The state file's sensitive paths address the value inside its {@code {value, type}}
   * wrapper; both formats must hide exactly those and read the same documents.
   */
  @Test
  void sensitivePathsIntoAValueOfADynamicTypeHideItInTheStateFileToo() {
    TfState file = StateReader.v4("tf", resource("state-dynamic-object-1.11.tfstate"), "recorded");
    TfState shown = StateReader.representation("tf", resource("state-dynamic-object-1.11.json"));
    var fromFile = file.objects().get(key("terraform_data", "", "obj"));
    var fromShow = shown.objects().get(key("terraform_data", "", "obj"));
    assertThat(fromFile.attributes().toString()).doesNotContain("hunter2-pw").contains("admin");
    assertThat(fromFile.attributes().get("input").get("password").asText()).isEqualTo("(sensitive)");
    assertThat(fromFile.attributes().get("input").get("list").get(1).asText()).isEqualTo("(sensitive)");
    assertThat(fromFile.attributes()).isEqualTo(fromShow.attributes());
    assertThat(file.secrets()).contains("hunter2-pw").doesNotContain("string", "admin");
  }

  @Test
  void aShortSecretHidesOnlyAValueThatIsExactlyIt() {
    // a sensitive port must not hide (and withhold from dependents) every endpoint that names it
    TfState s = StateReader.v4("tf", ("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [{\"mode\":"
        + " \"managed\", \"type\": \"x_db\", \"name\": \"d\", \"instances\": [{\"attributes\": {\"endpoint\":"
        + " \"db.example.com:5432\", \"port\": 5432, \"port_text\": \"5432\"}, \"sensitive_attributes\": []}]}]}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8), "inline", dev.gitops.core.redact.Scrubber.of(
            java.util.List.of("5432")));
    var d = s.objects().get(key("x_db", "", "d"));
    assertThat(d.sensitive()).containsExactlyInAnyOrder(FieldPath.of("port"), FieldPath.of("port_text"));
    assertThat(d.attributes().get("endpoint").asText()).isEqualTo("db.example.com:5432");
  }

  @Test
  void aMaskThatRunsPastAValueHidesThatValueWhole() {
    com.fasterxml.jackson.databind.JsonNode doc = PlanReader.parse(
        "{\"block\": \"flat-secret\", \"list\": [\"a\"], \"kept\": \"k\"}".getBytes(
            java.nio.charset.StandardCharsets.UTF_8), "inline");
    assertThat(StateReader.within(doc, java.util.Set.of(FieldPath.of("block", "value"),
        FieldPath.of("list").index(0).field("x"), FieldPath.of("absent", "deep"))))
        .containsExactlyInAnyOrder(FieldPath.of("block"), FieldPath.of("list").index(0), FieldPath.of("absent", "deep"));
    // an object that only looks like a dynamic value: its sensitive path still hides its secret
    TfState s = StateReader.v4("tf", ("{\"version\": 4, \"serial\": 1, \"lineage\": \"l\", \"resources\": [{\"mode\":"
        + " \"managed\", \"type\": \"x_param\", \"name\": \"p\", \"instances\": [{\"attributes\": {\"setting\":"
        + " {\"type\": \"string\", \"value\": \"looks-dynamic-secret\"}}, \"sensitive_attributes\": [[{\"type\":"
        + " \"get_attr\", \"value\": \"setting\"}, {\"type\": \"get_attr\", \"value\": \"value\"}]]}]}]}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8), "inline");
    assertThat(s.objects().get(key("x_param", "", "p")).attributes().toString()).doesNotContain("looks-dynamic-secret");
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

  @Test
  void aCorruptStateFileIsNamedWithTheWayToRestoreIt() {
    java.nio.file.Path file = java.nio.file.Path.of("/var/lib/gitops/tf/terraform.tfstate");
    String full = new String(resource("state-after.tfstate"), java.nio.charset.StandardCharsets.UTF_8);
    byte[] truncated = full.substring(0, full.indexOf("Zq9!pass") + 6).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] zeros = new byte[512];  // a file the crash left allocated but never written
    for (byte[] corrupt : java.util.List.of(truncated, zeros, "not json at all".getBytes(),
        "[\"a list\"]".getBytes(), "4".getBytes(), ("{\"version\": 4, \"x\": " + "[".repeat(5000)).getBytes(), "{\"resources\": []}".getBytes(), new byte[] {0x1f, (byte) 0x8b, 0x08, 0, 0x7b})) {
      assertThatThrownBy(() -> StateReader.file("tf", corrupt, file, dev.gitops.core.redact.Scrubber.none()))
          .as(new String(corrupt, 0, Math.min(corrupt.length, 80), java.nio.charset.StandardCharsets.ISO_8859_1))
          .isInstanceOf(TerraformException.class)
          .hasMessageContaining("the state file " + file)
          .hasMessageContaining("corrupt")
          .hasMessageContaining("/var/lib/gitops/tf/terraform.tfstate.backup")
          .hasMessageNotContaining("Zq9!pass");
    }
    java.nio.file.Path workspace = java.nio.file.Path.of("/w/terraform.tfstate.d/staging/terraform.tfstate");
    assertThatThrownBy(() -> StateReader.file("tf", truncated, workspace, dev.gitops.core.redact.Scrubber.none()))
        .hasMessageContaining("/w/terraform.tfstate.d/staging/terraform.tfstate.backup");
    assertThat(StateReader.file("tf", resource("state-after.tfstate"), file, dev.gitops.core.redact.Scrubber.none())
        .serial()).isEqualTo(5);
    assertThat(StateReader.file("tf", new byte[0], file, dev.gitops.core.redact.Scrubber.none()).lineage())
        .as("an empty file is an empty state (the continuity check names it)").isEmpty();
  }
}

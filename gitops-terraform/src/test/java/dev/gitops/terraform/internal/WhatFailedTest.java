package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class WhatFailedTest {

  @Test
  void theFirstErrorAndItsDetailAreShownNotTheAdviceAfterIt() {
    // terraform init without its registry, as Terraform 1.x prints it (stderr, then stdout)
    String stderr = """
        There are some problems with the CLI configuration:
        ╷
        │ Warning: Unable to open CLI configuration file
        ╵

        Error: Failed to query available provider packages

        Could not retrieve the list of available versions for provider
        hashicorp/null: could not connect to registry.terraform.io: failed to request
        discovery document

        To see which modules are currently depending on hashicorp/null and what
        versions are specified, run the following command:
            terraform providers
        """;
    String stdout = "Initializing the backend...\nInitializing provider plugins...\n";
    assertThat(Terraform.whatFailed(stderr + "\n" + stdout, 4)).isEqualTo("Error: Failed to query available provider"
        + " packages | Could not retrieve the list of available versions for provider | hashicorp/null: could not"
        + " connect to registry.terraform.io: failed to request | discovery document");
  }

  @Test
  void aFramedErrorLosesItsFrameAndWithoutAnErrorTheLastLinesAreShown() {
    assertThat(Terraform.whatFailed("╷\n│ Error: Invalid reference\n│\n│   on main.tf line 3\n╵\n", 3))
        .isEqualTo("Error: Invalid reference | on main.tf line 3");
    assertThat(Terraform.whatFailed("a\nb\n\nc\nd\n", 2)).isEqualTo("c | d");
    assertThat(Terraform.whatFailed(null, 2)).isEmpty();
  }

  /** Terraform 1.11.4's {@code init -no-color} on a configuration with errors: standard error, then standard output. */
  static final String INIT_INVALID = """
      There are some problems with the CLI configuration:
      ╷
      │ Warning: Unable to open CLI configuration file
      │
      │ The CLI configuration file at "/root/.terraformrc" does not exist.
      ╵


      Error: Terraform encountered problems during initialisation, including problems
      with the configuration, described below.

      The Terraform configuration must be valid before initialization so that
      Terraform can determine which modules and providers need to be installed.


      Error: Invalid expression

        on main.tf line 2, in resource "terraform_data" "a":
         2:   input =
         3: }

      Expected the start of an expression, but found an invalid expression token.

      Error: Unsupported block type

        on modules/m/main.tf line 4:
         4: foo {

      Blocks of type "foo" are not expected here.

      Initializing the backend...
      Initializing modules...
      - m in modules/m
      """;

  @Test
  void initsAnnouncementIsSkippedForTheErrorItAnnounces() {
    String shown = Terraform.whatFailed(INIT_INVALID, 6, f -> f);
    assertThat(shown).startsWith("Error: Invalid expression | on main.tf line 2, in resource")
        .doesNotContain("encountered problems").doesNotContain("must be valid before initialization");
    // OpenTofu words it the same way
    assertThat(Terraform.whatFailed(INIT_INVALID.replace("Terraform encountered", "OpenTofu encountered")
        .replace("initialisation", "initialization"), 2, f -> f)).isEqualTo("Error: Invalid expression | on main.tf"
        + " line 2, in resource \"terraform_data\" \"a\": | Error: Unsupported block type | on modules/m/main.tf line 4:");
    // the announcement alone is still what failed
    assertThat(Terraform.whatFailed("Error: Terraform encountered problems during initialisation, including"
        + " problems\nwith the configuration, described below.\n", 2, f -> f)).contains("encountered problems");
  }

  @Test
  void theFailingFileIsNamedAsTheRepositoryHoldsIt() {
    String shown = Terraform.whatFailed(INIT_INVALID, 20, f -> "infra/" + f);
    assertThat(shown).contains("on infra/main.tf line 2, in resource \"terraform_data\" \"a\":")
        .contains("on infra/modules/m/main.tf line 4:").doesNotContain("| on main.tf")
        .as("init's progress on standard output").doesNotContain("Initializing").doesNotContain("- m in modules/m");
  }

  @Test
  void initsProgressLinesAreNotWhatFailed() {
    // an init that died without an error of its own (killed, a crash): its last lines are progress
    String out = "panic: runtime error: invalid memory address\ngoroutine 1 [running]:\n\n"
        + "Initializing the backend...\nInitializing modules...\n- m in modules/m\nInitializing provider plugins...\n"
        + "- Finding hashicorp/random versions matching \"~> 3.5\"...\n"
        + "- terraform.io/builtin/terraform is built in to Terraform\n"
        + "Upgrading modules...\nDownloading registry.terraform.io/x/y/z 1.0.0 for net...\n";
    assertThat(Terraform.whatFailed(out, 2, f -> f)).isEqualTo("panic: runtime error: invalid memory address |"
        + " goroutine 1 [running]:");
  }

  @Test
  void recordedInitFailuresShowTheErrorAndTheFileAsTheRepositoryHoldsIt() {
    String invalid = new String(PlanReaderTest.resource("init-invalid-1.11.stderr"), java.nio.charset.StandardCharsets.UTF_8)
        + "\n" + new String(PlanReaderTest.resource("init-invalid-1.11.stdout"), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(Terraform.whatFailed(invalid, 6, f -> "infra/" + f)).isEqualTo("Error: Invalid expression | on"
        + " infra/main.tf line 2, in resource \"terraform_data\" \"a\": | 2:   input = | 3: } | Expected the start of"
        + " an expression, but found an invalid expression token. | Error: Unsupported block type | on"
        + " infra/main.tf line 4: | 4: foo { | Blocks of type \"foo\" are not expected here.");
    String module = new String(PlanReaderTest.resource("init-module-invalid-1.11.stderr"),
        java.nio.charset.StandardCharsets.UTF_8) + "\n" + new String(PlanReaderTest.resource(
        "init-module-invalid-1.11.stdout"), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(Terraform.whatFailed(module, 6, f -> "infra/" + f)).isEqualTo("Error: Unsupported block type | on"
        + " infra/modules/m/main.tf line 3: | 3: foo { | Blocks of type \"foo\" are not expected here.");
  }

  /** What Terraform printed, standard error then standard output, of a recording in the test resources. */
  private static String recorded(String name) {
    java.nio.charset.Charset utf8 = java.nio.charset.StandardCharsets.UTF_8;
    return new String(PlanReaderTest.resource(name + ".stderr"), utf8) + "\n"
        + new String(PlanReaderTest.resource(name + ".stdout"), utf8);
  }

  @Test
  void everyErrorIsShownOnceForTheCauseIsNotAlwaysTheFirst() {
    // Terraform 1.11.4's init on a .tf.json file with a trailing comma: the comma is the last error
    String shown = Terraform.whatFailed(recorded("init-json-trailing-comma-1.11"), 6, f -> "infra/" + f);
    assertThat(shown).startsWith("Error: Incorrect JSON value type | on infra/bad.tf.json line 1")
        .contains("| Error: Trailing comma in object | on infra/bad.tf.json line 1, in resource.terraform_data: |")
        .endsWith("JSON does not permit a trailing comma after the final property in an object.")
        .doesNotContain("encountered problems").doesNotContain("Unable to open CLI configuration");
    assertThat(shown.split("Error: Incorrect JSON value type", -1)).as("printed twice, shown once").hasSize(2);
    // many errors: the first ten, and how many more
    StringBuilder many = new StringBuilder();
    for (int i = 1; i <= 12; i++) {
      many.append("Error: Unsupported argument ").append(i).append("\n\n  on main.tf line ").append(i).append(":\n\n");
    }
    assertThat(Terraform.whatFailed(many.toString(), 3)).contains("Error: Unsupported argument 10 | on main.tf line 10:")
        .doesNotContain("argument 11").endsWith("| (2 more errors)");
  }

  @Test
  void aStreamsErrorsAreListedOnceAtMostTenCountingTheOnesNotKept() {
    assertThat(Terraform.listed(List.of("a", "b", "a"), 0)).isEqualTo("a; b");
    assertThat(Terraform.listed(List.of("a", "b", "a"), 5)).isEqualTo("a; b; (5 more errors)");
    assertThat(Terraform.listed(List.of(), 1)).isEqualTo("(1 more error)");
    List<String> twelve = java.util.stream.IntStream.rangeClosed(1, 12).mapToObj(i -> "e" + i).toList();
    assertThat(Terraform.listed(twelve, 3)).startsWith("e1; e2;").contains("; e10; ").doesNotContain("e11")
        .endsWith("; (5 more errors)");
  }
}

package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

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
}

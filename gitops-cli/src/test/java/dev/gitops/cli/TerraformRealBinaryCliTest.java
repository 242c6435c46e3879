package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --provider terraform} against the real binary where one is installed (the built-in
 * {@code terraform_data} needs no plugin): a reviewed plan pins the variables' values, and a
 * working directory gitops did not make is taken over only with {@code --adopt}. Skipped, saying
 * so, without a binary.
 */
class TerraformRealBinaryCliTest {

  @TempDir
  Path tmp;
  Path terraform;
  FixtureRepo repo;

  @BeforeEach
  void setUp() throws Exception {
    // the first terraform on PATH, as the CLI finds it; none can be installed from CI's machine
    terraform = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "terraform")).filter(Files::isExecutable).findFirst()
        .orElse(null);
    Assumptions.assumeTrue(terraform != null, "no terraform on PATH");
    // gitops-cli's surefire configuration sets it: a real terraform must not read the user's CLI configuration
    Assumptions.assumeTrue("/dev/null".equals(System.getenv("TF_CLI_CONFIG_FILE")),
        "TF_CLI_CONFIG_FILE=/dev/null is not set: a real terraform would read the user's CLI configuration");
    repo = FixtureRepo.init(tmp.resolve("repo"));
  }

  private String[] args(String command, Path work, String... more) {
    java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of(command, "--repo", repo.dir().toString(),
        "--ref", "main", "--path", "infra", "--provider", "terraform", "--binary", terraform.toString(), "--target",
        work.toString()));
    a.addAll(java.util.List.of(more));
    return a.toArray(String[]::new);
  }

  /**
   * {@code plan} warns of every refusal {@code sync} with the same flags would exit 3 for, not only
   * the mass-deletion guard's: here Terraform's plan that destroys under {@code --no-prune} (a
   * planning provider's plan runs whole), in the words {@code sync --dry-run} refuses it with,
   * naming the flag.
   */
  @Test
  void aPlanThatSyncWouldRefuseUnderNoPruneSaysSoInTheWordsOfTheDryRunNamingTheFlag() throws Exception {
    repo.write("infra/main.tf", """
        resource "terraform_data" "a" {
          input = "a"
        }
        resource "terraform_data" "b" {
          input = "b"
        }
        """).commit("two");
    Path work = tmp.resolve("work");
    CliRun first = gitops(args("sync", work));
    assertThat(first.code()).as("%s", first).isZero();
    repo.write("infra/main.tf", """
        resource "terraform_data" "a" {
          input = "a"
        }
        """).commit("b removed");

    CliRun dry = gitops(args("sync", work, "--no-prune", "--dry-run"));
    assertThat(dry.code()).as("%s", dry).isEqualTo(ExitCodes.REFUSED);
    String refusal = dry.err().strip();
    assertThat(refusal).startsWith("gitops: refused by prune for provider 'tf': ").contains("--no-prune")
        .doesNotContain("\n");

    CliRun plan = gitops(args("plan", work, "--no-prune", "--detailed-exitcode"));
    assertThat(plan.code()).as("a plan's exit code: %s", plan).isEqualTo(ExitCodes.PENDING);
    assertThat(plan.out().lines().filter(l -> l.startsWith("warning: ")).toList()).as("%s", plan).singleElement()
        .isEqualTo("warning: 'gitops sync' with these flags would exit 3, " + refusal.substring("gitops: ".length()));

    CliRun pruning = gitops(args("plan", work));
    assertThat(pruning.code()).as("%s", pruning).isZero();
    assertThat(pruning.out()).doesNotContain("warning:");
  }

  @Test
  void syncOfAReviewedPlanWithOtherVariableValuesIsRefusedNamingTheVariable() throws Exception {
    repo.write("infra/main.tf", """
        variable "cmd" {
          type = string
        }
        variable "pw" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "q" {
          input = "q"
          provisioner "local-exec" {
            command = "echo ${var.cmd} > ran.txt"
          }
        }
        """).commit("a provisioner");
    Path work = tmp.resolve("work");
    Path plan = tmp.resolve("plan.json");
    CliRun reviewed = gitops(args("plan", work, "--var", "cmd=REVIEWED", "--var", "pw=first-secret-1", "--out",
        plan.toString()));
    assertThat(reviewed.code()).as("%s", reviewed).isZero();
    assertThat(Files.readString(plan)).contains("REVIEWED").doesNotContain("first-secret-1");

    CliRun evil = gitops(args("sync", work, "--var", "cmd=EVIL", "--var", "pw=first-secret-1", "--plan",
        plan.toString()));
    assertThat(evil.code()).as("%s", evil).isEqualTo(1);
    assertThat(evil.err()).contains("tf:var::cmd");
    CliRun rotated = gitops(args("sync", work, "--var", "cmd=REVIEWED", "--var", "pw=other-secret-2", "--plan",
        plan.toString()));
    assertThat(rotated.code()).as("%s", rotated).isEqualTo(1);
    assertThat(rotated.err()).contains("tf:var::pw").doesNotContain("first-secret-1").doesNotContain("other-secret-2");
    assertThat(work.resolve("ran.txt")).as("nothing applied").doesNotExist();

    CliRun same = gitops(args("sync", work, "--var", "cmd=REVIEWED", "--var", "pw=first-secret-1", "--plan",
        plan.toString()));
    assertThat(same.code()).as("%s", same).isZero();
    assertThat(work.resolve("ran.txt")).hasContent("REVIEWED");
  }

  @Test
  void aWorkingDirectoryWithAnotherStateIsTakenOverOnlyWithAdoptAndItsObjectsAreKept() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("work"));
    Files.writeString(work.resolve("main.tf"), """
        resource "terraform_data" "keep" {
          input = "keep"
        }
        resource "terraform_data" "prod_db" {
          input = "precious"
        }
        """);
    outside(work, "init", "-input=false");
    outside(work, "apply", "-auto-approve", "-input=false");
    repo.write("infra/main.tf", "resource \"terraform_data\" \"keep\" {\n  input = \"keep\"\n}\n").commit("keep");

    CliRun refused = gitops(args("sync", work));
    assertThat(refused.code()).as("%s", refused).isEqualTo(1);
    assertThat(refused.err()).contains("refusing to take over").contains(work.toString())
        .contains("terraform_data.prod_db").contains("--adopt");
    assertThat(Files.readString(work.resolve("main.tf"))).contains("prod_db");

    CliRun adopted = gitops(args("sync", work, "--adopt"));
    assertThat(adopted.code()).as("%s", adopted).isEqualTo(1);
    assertThat(adopted.out() + adopted.err()).contains("tf:terraform_data::prod_db").contains("held back");
    assertThat(Files.readString(work.resolve("terraform.tfstate"))).contains("precious");
  }

  @Test
  void terraformsErrorsNameTheFileAsTheRepositoryHoldsItNotRelativeToPath() throws Exception {
    repo.write("infra/main.tf", "resource \"terraform_data\" \"ok\" {\n  input = \"x\"\n}\n")
        .write("infra/bad.tf", "resource \"terraform_data\" \"bad\" {\n  input = var.nope\n}\n")
        .commit("an undeclared variable");
    CliRun r = gitops(args("plan", tmp.resolve("work")));
    assertThat(r.code()).as("%s", r).isNotZero();
    assertThat(r.out() + r.err()).contains("infra/bad.tf:2").doesNotContain(" bad.tf");
  }

  @Test
  void aReviewedPlanSyncedWithoutTheVariableItWasMadeWithIsRefusedSayingTheNewPlanIsIncompleteAndWhy()
      throws Exception {
    repo.write("infra/main.tf", """
        variable "region" {
          type = string
        }
        resource "terraform_data" "a" {
          input = var.region
        }
        """).commit("a required variable");
    Path work = tmp.resolve("work");
    Path plan = tmp.resolve("plan.json");
    assertThat(gitops(args("plan", work, "--var", "region=eu", "--out", plan.toString())).code()).isZero();
    CliRun without = gitops(args("sync", work, "--plan", plan.toString()));
    assertThat(without.code()).as("%s", without).isEqualTo(1);
    assertThat(without.err()).contains("no longer holds").contains("the plan computed now is incomplete: ")
        .contains("region").doesNotContain("the stored or live state changed");
    assertThat(work.resolve("terraform.tfstate")).as("nothing applied").doesNotExist();
  }

  @Test
  void tfWorkspaceAndTfCliArgsOfTheEnvironmentDoNotReachTerraform() throws Exception {
    repo.write("infra/main.tf", "resource \"terraform_data\" \"db\" {\n  input = \"prod\"\n}\n").commit("db");
    Path work = tmp.resolve("work");
    assertThat(gitops(args("sync", work)).code()).isZero();
    // a CI job's environment: another workspace (an empty state: everything would be created again,
    // unseen by the provider, which reads the default one) and added plan arguments
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args("sync", work)));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_WORKSPACE", "staging");
    pb.environment().put("TF_CLI_ARGS_plan", "-destroy");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("Nothing to do");
    assertThat(work.resolve("terraform.tfstate.d")).as("no other workspace").doesNotExist();
    assertThat(Files.readString(work.resolve("terraform.tfstate"))).contains("terraform_data");
    assertThatThrownBy(() -> dev.gitops.terraform.TerraformProvider.builder(tmp).environment("TF_WORKSPACE", "x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("TF_WORKSPACE is not passed to terraform");
  }

  private void outside(Path work, String... args) throws Exception {
    java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of(terraform.toString()));
    argv.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(argv).directory(work.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("outside.log").toFile()).start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("outside.log"))).isZero();
  }
}

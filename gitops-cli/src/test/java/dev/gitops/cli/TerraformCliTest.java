package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --provider terraform} with {@code --binary}, {@code --var} and {@code --var-file}, against
 * a stand-in binary (a bash script) that records its arguments and answers with an unchanged plan.
 */
class TerraformCliTest {

  static final String NOOP_PLAN = "{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.5\","
      + "\"resource_changes\":[{\"address\":\"random_pet.name\",\"mode\":\"managed\",\"type\":\"random_pet\","
      + "\"name\":\"name\",\"provider_name\":\"registry.terraform.io/hashicorp/random\",\"change\":{\"actions\":"
      + "[\"no-op\"],\"before\":{\"id\":\"happy-cat\"},\"after\":{\"id\":\"happy-cat\"},\"after_unknown\":{},"
      + "\"before_sensitive\":{},\"after_sensitive\":{}}}],\"applyable\":false,\"complete\":true,\"errored\":false}";

  @TempDir
  Path tmp;
  Path binary;
  Path log;
  FixtureRepo repo;

  @BeforeEach
  void setUp() throws Exception {
    log = tmp.resolve("calls.log");
    Files.writeString(tmp.resolve("plan.json"), NOOP_PLAN);
    binary = tmp.resolve("bin/tofu");
    Files.createDirectories(binary.getParent());
    // Records each call's arguments (and the variable files' content) one per line; answers version,
    // init, plan (exit 0, writing -out) and show -json with an unchanged plan.
    Files.writeString(binary, """
        #!/usr/bin/env bash
        echo "$*" >> '%1$s'
        for a in "$@"; do case "$a" in
          -var-file=*) echo "varfile ${a#-var-file=}: $(cat "${a#-var-file=}" 2>&1)" >> '%1$s' ;;
          -out=*) echo saved > "${a#-out=}" ;;
        esac; done
        case "$1" in
          version) echo '{"terraform_version":"1.8.0"}' ;;
          init) mkdir -p .terraform ;;
          show) cat '%2$s' ;;
        esac
        exit 0
        """.formatted(log, tmp.resolve("plan.json")));
    Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("infra/main.tf", "resource \"random_pet\" \"name\" {}\n")
        .write("infra/env/prod.tfvars", "size = 3\n").commit("infra");
  }

  @Test
  void planWithTheTerraformProviderPassesTheBinaryVariablesAndVariableFiles() throws Exception {
    Path work = tmp.resolve("work");
    CliRun r = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--var", "region=eu-west-1",
        "--var", "token=a=b", "--var-file", "env/prod.tfvars", "--target", work.toString());
    assertThat(r.code()).as("%s", r).isZero();
    String calls = Files.readString(log);
    assertThat(calls).contains("plan -input=false -json -detailed-exitcode -out=")
        .contains("-var-file=" + work.resolve("env/prod.tfvars"))
        .contains("size = 3")
        .contains("\"region\":\"eu-west-1\"").contains("\"token\":\"a=b\"");
    List<String> planLine = calls.lines().filter(l -> l.startsWith("plan ")).toList();
    assertThat(planLine).singleElement().satisfies(l -> assertThat(l).doesNotContain("eu-west-1"));
    assertThat(work.resolve("main.tf")).hasContent("resource \"random_pet\" \"name\" {}");
  }

  /**
   * Terraform's working directory (--target) holds terraform.tfstate, secrets in plain text: one the
   * session creates is owner-only, although the default store under it (<target>/.gitops) would
   * create it with the default mode first; one that exists keeps its permissions.
   */
  @Test
  void aMissingTerraformTargetIsCreatedOwnerOnlyAndAnExistingOneKeepsItsPermissions() throws Exception {
    Path work = tmp.resolve("missing/work");
    CliRun sync = gitops("sync", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--target", work.toString());
    assertThat(sync.code()).as("%s", sync).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(work))).isEqualTo("rwx------");
    assertThat(work.resolve(".gitops")).isDirectory();

    Path planned = tmp.resolve("planned");
    CliRun plan = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--target", planned.toString(),
        "--out", tmp.resolve("reviewed.plan").toString());
    assertThat(plan.code()).as("%s", plan).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(planned))).as("plan --out keeps the"
        + " store's key under it").isEqualTo("rwx------");

    Path open = Files.createDirectories(tmp.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-x---"));
    CliRun existing = gitops("sync", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--target", open.toString());
    assertThat(existing.code()).as("%s", existing).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(open))).isEqualTo("rwxr-x---");
  }

  @Test
  void aWorkingDirectoryInsideTheDirectoryPathReadsIsRefused() throws Exception {
    Path inside = repo.dir().resolve("infra/sub/work");
    CliRun r = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra", "--provider",
        "terraform", "--binary", binary.toString(), "--target", inside.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("--target " + inside).contains("inside the directory 'infra'");
    assertThat(repo.dir().resolve("infra/sub")).doesNotExist();
    CliRun beside = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra", "--provider",
        "terraform", "--binary", binary.toString(), "--target", repo.dir().resolve("build/tf").toString());
    assertThat(beside.code()).as("a directory --path does not read: %s", beside).isZero();
  }

  @Test
  void aVariableFileIsTheRevisionsRelativeToPathAndOneThatIsNotThereIsAnErrorNamingTheFlagAndThePath()
      throws Exception {
    Path work = tmp.resolve("work");
    // beside the process, where terraform -var-file would look: a relative --var-file is never read from there
    Path beside = Path.of("prod.tfvars").toAbsolutePath();
    org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(beside), beside + " exists");
    Files.writeString(beside, "size = 9\n");
    try {
      CliRun notInRevision = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
          "--provider", "terraform", "--binary", binary.toString(), "--var-file", "prod.tfvars", "--target",
          work.toString());
      assertThat(notInRevision.code()).as("%s", notInRevision).isEqualTo(ExitCodes.ERROR);
      assertThat(notInRevision.err()).contains("variable file 'prod.tfvars' (--var-file").contains("--path")
          .contains(work.resolve("prod.tfvars").toString()).contains("absolute path");
      assertThat(Files.exists(log) ? Files.readString(log) : "").as("terraform never planned").doesNotContain("plan ");
    } finally {
      Files.delete(beside);
    }
    CliRun up = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--var-file", "../prod.tfvars", "--target",
        work.toString());
    assertThat(up.code()).as("%s", up).isEqualTo(ExitCodes.ERROR);
    assertThat(up.err()).contains("--var-file").contains("'../prod.tfvars'").contains("absolute path");
    Path absent = tmp.resolve("nowhere.tfvars");
    CliRun missing = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--var-file", absent.toString(), "--target",
        work.toString());
    assertThat(missing.code()).as("%s", missing).isEqualTo(ExitCodes.ERROR);
    assertThat(missing.err()).contains("--var-file " + absent + ": no such file");
    Path fifo = tmp.resolve("vars.fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    CliRun special = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--var-file", fifo.toString(), "--target",
        work.toString());
    assertThat(special.code()).as("%s", special).isEqualTo(ExitCodes.ERROR);
    assertThat(special.err()).contains("--var-file " + fifo + ": is not a regular file (a FIFO or a device, say)");
  }

  /**
   * A plan with changes: {@code token} declared (not {@code sensitive = true}) and set to SECRET, which
   * an attribute of the resource holds too, unmarked, as Terraform shows a value it was not told is secret.
   */
  static final String SECRET_PLAN = "{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.5\","
      + "\"variables\":{\"token\":{\"value\":\"SECRET\"}},"
      + "\"configuration\":{\"root_module\":{\"variables\":{\"token\":{},\"region\":{}}}},"
      + "\"resource_changes\":[{\"address\":\"random_pet.name\",\"mode\":\"managed\",\"type\":\"random_pet\","
      + "\"name\":\"name\",\"provider_name\":\"registry.terraform.io/hashicorp/random\",\"change\":{\"actions\":"
      + "[\"update\"],\"before\":{\"id\":\"happy-cat\",\"prefix\":\"old\"},\"after\":{\"id\":\"happy-cat\","
      + "\"prefix\":\"SECRET\"},\"after_unknown\":{},\"before_sensitive\":{},\"after_sensitive\":{}}}],"
      + "\"applyable\":true,\"complete\":true,\"errored\":false}";

  @Test
  void aSensitiveVariableIsSetAsVarSetsItAndItsValueIsShownInNoPlanPlanFileOrLogLine() throws Exception {
    String secret = "tf-cli-s3cr3t-5f1e";
    Files.writeString(tmp.resolve("plan.json"), SECRET_PLAN.replace("SECRET", secret));
    // plan exits 2: changes
    Files.writeString(binary, Files.readString(binary).replace("  show) cat", "  plan) exit 2 ;;\n  show) cat"));
    Path work = tmp.resolve("work");
    Path saved = tmp.resolve("reviewed.plan");
    CliRun r = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--sensitive-var", "token=" + secret,
        "--var", "region=eu", "--target", work.toString(), "--out", saved.toString(), "--verbose");
    assertThat(r.code()).as("%s", r).isNotEqualTo(ExitCodes.ERROR);
    String calls = Files.readString(log);
    assertThat(calls).as("set as --var sets it").contains("\"token\":\"" + secret + "\"")
        .contains("\"region\":\"eu\"");
    assertThat(calls.lines().filter(l -> l.startsWith("plan ")).toList()).singleElement()
        .satisfies(l -> assertThat(l).doesNotContain(secret));
    assertThat(r.out()).contains("tf:random_pet::name").contains("/prefix: (sensitive) -> (sensitive)");
    assertThat(r.out() + r.err()).doesNotContain(secret);
    assertThat(Files.readString(saved)).contains("random_pet").contains("tf:var::token").doesNotContain(secret);

    // the same value given with --var is shown where the test looks: it would see a leak
    CliRun plain = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--var", "token=" + secret,
        "--var", "region=eu", "--target", work.toString());
    assertThat(plain.out()).contains(secret);
  }

  @Test
  void sensitiveVariableFlagsAreCheckedWithoutShowingTheirValue() {
    CliRun noValue = gitops("plan", "--repo", repo.dir().toString(), "--provider", "terraform", "--binary",
        binary.toString(), "--sensitive-var", "hunter2", "--target", tmp.resolve("w").toString());
    assertThat(noValue.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(noValue.err()).contains("--sensitive-var: want NAME=VALUE").doesNotContain("hunter2");
    CliRun twice = gitops("plan", "--repo", repo.dir().toString(), "--provider", "terraform", "--binary",
        binary.toString(), "--var", "token=a", "--sensitive-var", "token=hunter2", "--target", tmp.resolve("w").toString());
    assertThat(twice.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(twice.err()).contains("--sensitive-var token=...").contains("--var token").doesNotContain("hunter2");
    CliRun badName = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra", "--provider",
        "terraform", "--binary", binary.toString(), "--sensitive-var", "no good=hunter2", "--target",
        tmp.resolve("w").toString());
    assertThat(badName.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(badName.err()).contains("--sensitive-var").contains("no good").doesNotContain("hunter2");
    CliRun files = gitops("plan", "--repo", repo.dir().toString(), "--sensitive-var", "token=hunter2", "--target",
        tmp.resolve("t").toString());
    assertThat(files.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(files.err()).contains("--sensitive-var is for --provider terraform").doesNotContain("hunter2");
  }

  @Test
  void terraformFlagsAreCheckedAndNamed() {
    CliRun bad = gitops("plan", "--repo", repo.dir().toString(), "--provider", "terraform", "--binary", binary.toString(),
        "--var", "novalue", "--target", tmp.resolve("w").toString());
    assertThat(bad.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(bad.err()).contains("--var 'novalue'").contains("NAME=VALUE");
    CliRun files = gitops("plan", "--repo", repo.dir().toString(), "--binary", "tofu", "--target",
        tmp.resolve("t").toString());
    assertThat(files.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(files.err()).contains("--binary is for --provider terraform");
    CliRun missing = gitops("plan", "--repo", repo.dir().toString(), "--provider", "terraform", "--binary",
        tmp.resolve("nowhere/terraform").toString(), "--target", tmp.resolve("w").toString());
    assertThat(missing.code()).isEqualTo(ExitCodes.ERROR);
    assertThat(missing.err()).contains("nowhere/terraform").contains("does not exist");
  }

  @Test
  void terraformsWarningsArePrintedOnceOnTheErrorStreamWithTheCommandTheyCameFrom() throws Exception {
    // The plan's UI stream holds the same warning twice (as a plan and an apply would) and a third
    // whose detail tries to redraw the terminal.
    String warn = "{\\\"@level\\\":\\\"warn\\\",\\\"@message\\\":\\\"Warning: Check block assertion failed\\\","
        + "\\\"type\\\":\\\"diagnostic\\\",\\\"diagnostic\\\":{\\\"severity\\\":\\\"warning\\\","
        + "\\\"summary\\\":\\\"Check block assertion failed\\\",\\\"detail\\\":\\\"%s\\\"}}";
    String script = Files.readString(binary).replace("  init) mkdir -p .terraform ;;", "  init) mkdir -p .terraform ;;\n"
        + "  plan) echo \"" + warn.formatted("input is not y") + "\"; echo \"" + warn.formatted("input is not y")
        + "\"; echo \"" + warn.formatted("bad \\\\u001b[2J end") + "\" ;;");
    Files.writeString(binary, script);
    CliRun r = gitops("plan", "--repo", repo.dir().toString(), "--ref", "main", "--path", "infra",
        "--provider", "terraform", "--binary", binary.toString(), "--target", tmp.resolve("work").toString());
    assertThat(r.code()).as("%s", r).isZero();
    assertThat(r.err().lines().toList()).containsExactly(
        "Warning: Check block assertion failed: input is not y (terraform plan)",
        "Warning: Check block assertion failed: bad \\u001b[2J end (terraform plan)");
    assertThat(r.out()).doesNotContain("Warning");
  }
}

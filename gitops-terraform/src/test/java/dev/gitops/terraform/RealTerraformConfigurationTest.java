package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The provider against a real {@code terraform} (or {@code tofu}) binary ({@link RealTerraformFixture}):
 * the configuration as Terraform reads it (local and outside modules, variables of every type and
 * where their values come from, sensitive values that must never reach a message), errors named
 * at their file and line, manual approval, deadlines, workspaces, check blocks and init.
 */
class RealTerraformConfigurationTest extends RealTerraformFixture {

  @Test
  void valuesOfSensitiveVariablesNeverReachMessagesEvenBeforeTerraformMarkedThem() throws Exception {
    String pw = "S3cr3t-pw-never-shown-77";
    repo.write("infra/pw.tf", """
        variable "pw" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "pw" {
          input = var.pw
        }
        check "pw" {
          assert {
            condition     = var.pw == "nope"
            error_message = "pw is ${nonsensitive(var.pw)} wrong"
          }
        }
        """).commit("a check that quotes a secret");
    List<TerraformEvent> seen = new CopyOnWriteArrayList<>();
    try (Reconciler reconciler = reconciler(builder().variable("pw", pw).listener(seen::add).build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(seen).filteredOn(TerraformEvent::isWarning).isNotEmpty()
        .allSatisfy(e -> assertThat(e.message()).doesNotContain(pw));
    // a rotated value, failing a precondition: the error path
    String rotated = "Rotated-S3cr3t-42-xyz";
    repo.write("infra/pre.tf", """
        resource "terraform_data" "pre" {
          input = "x"
          lifecycle {
            precondition {
              condition     = length(var.pw) < 5
              error_message = "too long: ${nonsensitive(var.pw)}"
            }
          }
        }
        """).commit("a precondition that quotes it");
    seen.clear();
    try (Reconciler reconciler = reconciler(builder().variable("pw", rotated).listener(seen::add).build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("too long").doesNotContain(rotated);
      assertThat(seen).allSatisfy(e -> assertThat(e.message()).doesNotContain(rotated));
    }
  }

  @Test
  void localModulesAndDataFilesComeFromTheRevisionAndAModuleFromOutsideIsRefused() throws Exception {
    repo.delete("app.conf");
    repo.write("infra/modules/m/main.tf", """
        variable "text" {
          type = string
        }
        resource "terraform_data" "m" {
          input = var.text
        }
        """);
    repo.write("infra/data.txt", "from-git");
    repo.write("infra/mod.tf", """
        module "m" {
          source = "./modules/m"
          text   = file("${path.module}/data.txt")
        }
        """).commit("a module and a data file");
    TerraformProvider tf = provider();
    // the provider's own decoder, as the CLI has it: it decides which files of the repository are copied
    try (Reconciler reconciler = Reconciler.builder()
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build())
        .provider(tf).store(FileStateStore.open(tmp.resolve("state"))).build()) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as("%s", why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("from-git");

      Files.createDirectories(tmp.resolve("modules/host"));
      Files.writeString(tmp.resolve("modules/host/main.tf"), "resource \"terraform_data\" \"h\" {\n  input = \"from-host\"\n}\n");
      repo.write("modules/host/main.tf", "resource \"terraform_data\" \"h\" {\n  input = \"from-git\"\n}\n");
      repo.write("infra/outside.tf", "module \"host\" {\n  source = \"../modules/host\"\n}\n").commit("outside");
      Throwable refused = org.assertj.core.api.Assertions.catchThrowable(reconciler::sync);
      String message = refused != null ? refused.getMessage() : why(reconciler.sync());
      assertThat(message).contains("infra/outside.tf").contains("module \"host\"").contains("../modules/host");
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).doesNotContain("from-host");
    }
  }

  @Test
  void aModuleFromOutsideIsRefusedHoweverItsBlockIsWrittenAsTerraformResolvesIt() throws Exception {
    Files.createDirectories(tmp.resolve("x"));
    Files.writeString(tmp.resolve("x/main.tf"), "resource \"terraform_data\" \"h\" {\n  input = \"from-host\"\n}\n");
    repo.write("infra/modules/m/main.tf", "resource \"terraform_data\" \"m\" {\n  input = \"inside\"\n}\n");
    // an unquoted label, and a commented-out source ahead of the one Terraform reads: both are ../x from the working directory
    repo.write("infra/outside.tf", """
        module host {
          /*
          source = "./modules/m"
          */
          source = "../x"
        }
        """).commit("a module from the host, written two ways a line scan misses");
    try (Reconciler reconciler = reconciler(provider())) {
      Throwable refused = org.assertj.core.api.Assertions.catchThrowable(reconciler::sync);
      String message = refused != null ? refused.getMessage() : why(reconciler.sync());
      assertThat(message).contains("module").contains("host").contains("../x");
      assertThat(workDir.resolve("terraform.tfstate")).as("nothing read from the host, nothing applied")
          .satisfiesAnyOf(s -> assertThat(s).doesNotExist(),
              s -> assertThat(Files.readString(s)).doesNotContain("from-host"));
    }
  }

  static dev.gitops.api.Resource configFile(String path, String text) {
    return dev.gitops.api.Resource.of(dev.gitops.terraform.internal.Addresses.file("tf", path),
        dev.gitops.api.Documents.object(java.util.Map.of("content", dev.gitops.api.Documents.nodes().textNode(text))));
  }

  @Test
  void aModuleSourceWrittenAsAnExpressionIsRefusedWhenTheRevisionIsReadNamingFileAndLine() throws Exception {
    Files.createDirectories(tmp.resolve("x"));
    Files.writeString(tmp.resolve("x/main.tf"), "resource \"terraform_data\" \"h\" {\n  input = \"from-host\"\n}\n");
    // Terraform evaluates a constant expression there: 1.11.4's init resolves ("../x") to ../x, from the host
    repo.write("infra/outside.tf", "module \"host\" {\n  source = (\"../x\")\n}\n")
        .commit("a module from the host behind an expression");
    try (Reconciler reconciler = reconciler(provider())) {
      Throwable refused = org.assertj.core.api.Assertions.catchThrowable(reconciler::sync);
      String message = refused != null ? refused.getMessage() : why(reconciler.sync());
      assertThat(message).contains("infra/outside.tf:2").contains("module \"host\"").contains("not a literal string");
      assertThat(workDir.resolve(".terraform")).as("init never ran on it").doesNotExist();
    }
  }

  @Test
  void aModuleTerraformResolvesOutsideTheWorkingDirectoryIsRefusedAfterInitBeforeAnyPlan() throws Exception {
    Files.createDirectories(tmp.resolve("x"));
    Files.writeString(tmp.resolve("x/main.tf"), "resource \"terraform_data\" \"h\" {\n  input = \"from-host\"\n}\n");
    // the decoder refuses every spelling of such a source it is given (an expression too); a program's own Source
    // can hand the provider configuration without it, which Terraform's own record of its modules still stops
    String revision = "main@sha1:" + "b".repeat(40);
    dev.gitops.api.State desired = dev.gitops.api.State.of(revision, List.of(
        configFile("main.tf", config("hello")), configFile("outside.tf", "module \"host\" {\n  source = \"../x\"\n}\n")));
    TerraformProvider tf = provider();
    try (Reconciler reconciler = Reconciler.builder().source(dev.gitops.api.spi.Source.of(() -> desired)).provider(tf)
        .store(FileStateStore.open(tmp.resolve("state"))).build()) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("module host (source \"../x\")").contains("outside the working directory");
      assertThat(workDir.resolve("terraform.tfstate")).as("nothing read from the host, nothing applied")
          .doesNotExist();
      r = reconciler.sync();
      assertThat(why(r)).as("refused again: init's decision was not recorded").contains("module host");
    }
  }

  @Test
  void theValueOfAVariableDeclaredSensitiveUnderAnUnquotedLabelNeverReachesMessages() throws Exception {
    String pw = "Unquoted-S3cr3t-label-31";
    assertACheckQuotingItNeverShows("variable pw {", pw, builder().variable("pw", pw));
  }

  @Test
  void theValueOfASensitiveVariableFromTheEnvironmentNeverReachesMessages() throws Exception {
    String pw = "Env-S3cr3t-TF-VAR-58";
    assertACheckQuotingItNeverShows("variable \"pw\" {", pw, builder().environment("TF_VAR_pw", pw));
  }

  @Test
  void theValueOfASensitiveVariableFromTheRevisionsVariableFileNeverReachesMessagesAtTheFirstSync()
      throws Exception {
    String pw = "VarFile-S3cr3t-in-revision-64";
    // not yet in the working directory when the provider learns the secrets: it is read from the revision
    repo.write("infra/env/secret.tfvars", "pw = \"" + pw + "\"\n");
    assertACheckQuotingItNeverShows("variable \"pw\" {", pw, builder().varFile("env/secret.tfvars"));
  }

  @Test
  void theStringsOfASensitiveObjectVariableGivenInHclNeverReachMessages() throws Exception {
    String pass = "Obj-S3cr3t-pass-91";
    String value = "{user = \"u\", pass = \"" + pass + "\"}";
    repo.write("infra/creds.tf", """
        variable "creds" {
          type      = object({ user = string, pass = string })
          sensitive = true
        }
        check "creds" {
          assert {
            condition     = var.creds.pass == "nope"
            error_message = "pass is ${nonsensitive(var.creds.pass)} wrong"
          }
        }
        """).commit("a check that quotes a string of a sensitive object");
    // Terraform quotes the element, not the HCL text the value was given as (-var, TF_VAR_creds)
    for (TerraformProvider.Builder given : List.of(builder().variable("creds", value),
        builder().environment("TF_VAR_creds", value))) {
      List<TerraformEvent> seen = new CopyOnWriteArrayList<>();
      try (Reconciler reconciler = reconciler(given.listener(seen::add).build())) {
        assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      }
      assertThat(seen).filteredOn(TerraformEvent::isWarning).isNotEmpty()
          .allSatisfy(e -> assertThat(e.message()).contains("pass is").doesNotContain(pass));
    }
  }

  @Test
  void aVariableOfAListMapOrObjectTypeTakesAnHclValueAsMinusVarDoesAndAStringStaysLiteral() throws Exception {
    repo.write("infra/complex.tf", """
        variable "names" {
          type = list(string)
        }
        variable "sizes" { type = map(number) }
        variable "literal" {
          type = string
        }
        resource "terraform_data" "complex" {
          input = "${join("+", var.names)}|${var.sizes["a"] + 1}|${var.literal}"
        }
        """).commit("complex variables");
    TerraformProvider tf = builder().variable("names", "[\"a\", \"b\"]").variable("sizes", "{ a = 41 }")
        .variable("literal", "[\"not\", \"a list\"]").build();
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as("%s", why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate")))
        .contains("a+b|42|[\\\"not\\\", \\\"a list\\\"]");
    TerraformProvider twoLines = builder().variable("names", "[\"a\",\n\"b\"]").variable("sizes", "{ a = 1 }")
        .variable("literal", "x").build();
    try (Reconciler reconciler = reconciler(twoLines)) {
      assertThat(why(reconciler.sync())).contains("variable 'names'").contains("spans lines");
    }
  }

  @Test
  void anHclValueTerraformCannotParseIsReportedNamingItsVariableNotALineOfAFileNobodySees() throws Exception {
    repo.write("infra/complex.tf", """
        variable "names" { type = list(string) }
        variable "sizes" { type = map(number) }
        resource "terraform_data" "complex" {
          input = length(var.names) + length(var.sizes)
        }
        """).commit("complex variables");
    TerraformProvider tf = builder().variable("names", "[\"a\"]").variable("sizes", "{a = ").build();
    try (Reconciler reconciler = reconciler(tf)) {
      assertThat(why(reconciler.sync())).contains("Invalid expression")
          .contains("(in the value of variable 'sizes' (--var, variable(...)), as an HCL expression)")
          .doesNotContain("(--var):").doesNotContain("variables-hcl");
    }
  }

  @Test
  void aVariableOfTypeAnyTakesAnHclValueAsMinusVarDoes() throws Exception {
    repo.write("infra/anything.tf", """
        variable anything {
          type = any
        }
        resource "terraform_data" "anything" {
          input = join("+", var.anything)
        }
        """).commit("a variable of type any, under a bare label");
    try (Reconciler reconciler = reconciler(builder().variable("anything", "[\"a\", \"b\"]").build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as("%s", why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("a+b");
  }

  @Test
  void aPlanTimeErrorNamesTheFileByItsRepositoryPathAndTheLine() throws Exception {
    repo.write("infra/other.tf", "\n\n\nresource \"terraform_data\" \"b\" {\n  input = terraform_data.nope.id\n}\n")
        .commit("a reference to nothing");
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("Reference to undeclared resource").containsPattern("at infra/other\\.tf:[45]\\)");
    }
  }

  @Test
  void withManualApprovalTheSyncStopsAtTheSavedPlanAndTheNextAppliesExactlyIt() throws Exception {
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult waiting = reconciler.sync();
      assertThat(waiting.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.exists(workDir.resolve("terraform.tfstate"))).as("nothing applied before approval").isFalse();
      assertThat(target.resolve("app.conf")).as("the file waits for the output").doesNotExist();
      TerraformPlan pending = tf.pendingPlan().orElseThrow();
      assertThat(pending.summary()).matches("[1-9][0-9]* to add, 0 to change, 0 to destroy, 0 to replace");
      tf.approve(pending.id());
      SyncResult applied = reconciler.sync();
      assertThat(applied.status()).as("%s", applied).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(tf.pendingPlan()).isEmpty();
      assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("greeting=hello\nfollower=hello-follower\n");
      assertThatThrownBy(() -> tf.approve(pending.id())).as("a plan is applied once")
          .isInstanceOf(StalePlanException.class);
    }
  }

  @Test
  void anApplyCutOffByItsDeadlineIsInterruptedSoTerraformRecordsWhatItMade() throws Exception {
    repo.write("infra/slow.tf", """
        variable "provision" {
          type    = string
          default = "true"
        }
        resource "terraform_data" "slow" {
          input = "made"
          provisioner "local-exec" {
            command = var.provision
          }
        }
        """).commit("a slow provisioner");
    SyncOptions cutShort = SyncOptions.builder()
        .execution(ExecutionOptions.defaults().withCallTimeout(Duration.ofSeconds(4))).build();
    try (Reconciler reconciler = reconciler(builder().variable("provision", "sleep 30").build(), cutShort)) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    }
    // The engine gave up on the call at its deadline; the provider interrupted Terraform, which ends
    // the provisioner, writes the object it had made into the state as tainted, and releases its lock.
    try (Reconciler reconciler = reconciler(provider(), SyncOptions.defaults())) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Plan again = reconciler.plan();
      while (!again.isComplete() && System.nanoTime() < end) {  // the interrupted apply still holds the lock
        Thread.sleep(200);
        again = reconciler.plan();
      }
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).as("interrupted, not killed")
          .contains("\"status\": \"tainted\"");
      assertThat(again.change(data("slow")).map(Change::action)).as("the tainted object is replaced, not made twice")
          .contains(Action.REPLACE);
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
  }

  @Test
  void aWorkspaceKeepsItsOwnStateAndTheProviderReadsIt() throws Exception {
    try (Reconciler reconciler = reconciler(builder().workspace("staging").build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(workDir.resolve("terraform.tfstate.d/staging/terraform.tfstate")))
          .contains("hello-follower");
      assertThat(workDir.resolve("terraform.tfstate")).as("the default workspace is untouched").doesNotExist();
      SyncResult again = reconciler.sync();
      assertThat(again.plan().changes()).allMatch(c -> c.action() == Action.NOOP);
      assertThat(reconciler.plan().change(data("greeting")).orElseThrow().live().get("input").asText())
          .as("observed from the workspace's state").isEqualTo("hello");
    }
  }

  @Test
  void aMisspeltVariableIsRefusedNotPlannedWithTheDefault() throws Exception {
    TerraformProvider tf = builder().variable("greting", "typo").build();
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("variable 'greting' is set")
          .contains("declares greeting, token");
      assertThat(Files.exists(workDir.resolve("terraform.tfstate"))).as("nothing applied").isFalse();
    }
  }

  @Test
  void anInvalidConfigurationFailsNamingTheFileAndLine() throws Exception {
    repo.write("infra/broken.tf", "resource \"terraform_data\" \"x\" {\n  input = \n}\n").commit("broken");
    TerraformProvider tf = provider();
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      String why = r.plan().unobserved() + " " + r.outcomes().values().stream().map(Outcome::message).toList()
         ;
      assertThat(why).contains("broken.tf").containsPattern("line 2|:2");
      // init finds it first: its error, not its announcement of errors, and the file as the repository holds it
      assertThat(why).contains("terraform init failed").contains("Error: Invalid expression")
          .contains("on infra/broken.tf line 2").doesNotContain("encountered problems")
          .doesNotContain("Initializing the backend");
      assertThat(Files.exists(workDir.resolve("terraform.tfstate"))).as("nothing applied").isFalse();
    }
  }

  @Test
  void aFailedCheckBlockReachesTheListenerAsAWarningWithItsDetail() throws Exception {
    repo.write("infra/check.tf", """
        check "greeting" {
          assert {
            condition     = var.greeting == "goodbye"
            error_message = "the greeting is not goodbye"
          }
        }
        """).commit("a check that fails");
    List<TerraformEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Reconciler reconciler = reconciler(builder().listener(seen::add).build())) {
      assertThat(reconciler.sync().status()).as("a check is a warning, not an error").isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(seen).filteredOn(TerraformEvent::isWarning).isNotEmpty()
        .allSatisfy(e -> assertThat(e.message()).isEqualTo("Warning: Check block assertion failed: the greeting is not goodbye"))
        .extracting(TerraformEvent::command).contains("plan");
    assertThat(seen).filteredOn(e -> e.type().equals("apply_complete")).allMatch(e -> !e.isWarning());
  }

  @Test
  void aConfigurationDirectoryLeftWithoutRootConfigurationIsATeardownBehindTheDeletionGuard() throws Exception {
    TerraformProvider tf = provider();
    try (Reconciler reconciler = reconciler(tf)) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    // the root module's file leaves Git; notes and a module of its own stay (and nothing reads the outputs now)
    repo.delete("infra/main.tf");
    repo.write("app.conf", "greeting=static\n");
    repo.write("infra/README.md", "moved to infra-v2\n");
    repo.write("infra/modules/m/main.tf", "resource \"terraform_data\" \"m\" {\n  input = \"x\"\n}\n");
    repo.commit("the root module leaves");
    Path state = workDir.resolve("terraform.tfstate");
    try (Reconciler reconciler = reconciler(tf)) {
      assertThatThrownBy(reconciler::sync).isInstanceOf(dev.gitops.api.PlanRefusedException.class)
          .hasMessageContaining("mass-deletion guard");
    }
    assertThat(Files.readString(state)).as("nothing destroyed").contains("\"greeting\"").contains("\"follower\"");
    try (Reconciler reconciler = reconciler(tf, SyncOptions.builder()
        .budget(dev.gitops.core.plan.DeletionBudget.defaults().withAllowEmpty(true)).build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as(why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(r.plan().change(data("greeting")).map(Change::action)).contains(Action.DELETE);
    }
    assertThat(Files.readString(state)).as("torn down, as allowed").doesNotContain("terraform_data");
  }

  @Test
  void initRunsOnceForBuiltInProvidersWhileNothingItDependsOnChanges() throws Exception {
    Path inits = tmp.resolve("inits");
    Path wrapper = Files.createDirectories(tmp.resolve("bin")).resolve("terraform");
    Files.writeString(wrapper, "#!/bin/sh\nif [ \"$1\" = init ]; then echo init >> '" + inits + "'; fi\nexec '"
        + binary + "' \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try (Reconciler reconciler = reconciler(builder().binary(wrapper.toString()).build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      repo.write("infra/main.tf", config("hi")).commit("hi");
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    try (Reconciler reconciler = reconciler(builder().binary(wrapper.toString()).build())) {
      assertThat(reconciler.sync().status()).as("another process").isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(workDir.resolve(".terraform")).as("terraform_data is built in: init installs nothing").doesNotExist();
    assertThat(Files.readAllLines(inits)).as("init ran once").hasSize(1);
  }
}

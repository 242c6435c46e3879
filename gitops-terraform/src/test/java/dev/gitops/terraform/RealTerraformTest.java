package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.terraform.internal.Binary;
import dev.gitops.testkit.TempGitRepo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provider against a real {@code terraform} (or {@code tofu}) binary on {@code PATH}, with the
 * built-in {@code terraform_data} resource, which needs no provider plugin and so no registry:
 * init, plan, show -json, apply of the saved plan, the state file, outputs feeding the files
 * provider, a change made outside, a stale pinned plan, and a sensitive value that Terraform
 * itself hands back unmarked. Skipped, saying so, where no binary is installed (the stand-in
 * tests cover the formats there).
 */
class RealTerraformTest {

  private static final String SECRET = "tf-real-s3cr3t-9c1d";

  @TempDir
  Path tmp;

  private String binary;
  private TempGitRepo repo;
  private Path workDir;
  private Path target;
  private final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void findTheBinary() throws Exception {
    binary = onPath("terraform").or(() -> onPath("tofu")).orElse(null);
    Assumptions.assumeTrue(binary != null, "no terraform or tofu binary on PATH");
    workDir = tmp.resolve("work");
    target = Files.createDirectories(tmp.resolve("target"));
    repo = TempGitRepo.in(Files.createDirectories(tmp.resolve("repo")));
    repo.write("infra/main.tf", config("hello"));
    // a root output, and a resource's attribute of a dynamic type (the state file wraps it as {value, type})
    repo.write("app.conf", "greeting=${outputs:tf:output::greeting:value}\n"
        + "follower=${outputs:tf:terraform_data::follower:output}\n");
    repo.commit("infra and app");
  }

  /** {@code name} as the provider would find it on PATH ({@link Binary#locate}), if it is there. */
  private static Optional<String> onPath(String name) {
    try {
      return Optional.of(Binary.locate(name, System.getenv().getOrDefault("PATH", "")).path().toString());
    } catch (TerraformException e) {
      return Optional.empty();
    }
  }

  private static String config(String greeting) {
    return """
        variable "greeting" {
          type    = string
          default = "%s"
        }
        variable "token" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "greeting" {
          input = var.greeting
        }
        resource "terraform_data" "follower" {
          input            = "${terraform_data.greeting.output}-follower"
          triggers_replace = [var.greeting]
        }
        resource "terraform_data" "token" {
          input = var.token
        }
        output "greeting" {
          value = terraform_data.greeting.output
        }
        output "token" {
          value     = var.token
          sensitive = true
        }
        """.formatted(greeting);
  }

  /** The provider of these tests: no version check, an empty CLI configuration, the secret as a sensitive variable. */
  private TerraformProvider.Builder builder() throws Exception {
    Path rc = tmp.resolve("terraformrc");
    Files.writeString(rc, "");
    return TerraformProvider.builder(workDir).configDirectory("infra").binary(binary)
        .sensitiveVariable("token", SECRET)
        .environment("CHECKPOINT_DISABLE", "1").environment("TF_CLI_CONFIG_FILE", rc.toString());
  }

  private TerraformProvider provider() throws Exception {
    return builder().build();
  }

  private Reconciler reconciler(TerraformProvider tf) throws Exception {
    return reconciler(tf, SyncOptions.defaults());
  }

  private Reconciler reconciler(TerraformProvider tf, SyncOptions options) throws Exception {
    return Reconciler.builder()
        .options(options)
        .source(GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(tmp.resolve("cache")).build())
        .decoder("infra/**", tf.decoder().orElseThrow())
        .provider(tf)
        .provider(LocalFilesProvider.builder(target).build())
        .store(FileStateStore.open(tmp.resolve("state")))
        .listener(events::add)
        .build();
  }

  private static ResourceKey data(String name) {
    return ResourceKey.of("tf", "terraform_data", "", name);
  }

  /** Runs the binary in the working directory, as someone changing things outside the engine would. */
  private void outside(String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of(binary));
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("outside.log").toFile());
    pb.environment().put("CHECKPOINT_DISABLE", "1");
    pb.environment().put("TF_CLI_CONFIG_FILE", tmp.resolve("terraformrc").toString());
    pb.environment().put("TF_VAR_token", SECRET);
    Process p = pb.start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("outside.log"))).isZero();
  }

  @Test
  void plansAppliesFeedsTheOutputCorrectsAChangeMadeOutsideAndNeverShowsTheSecret() throws Exception {
    TerraformProvider tf = provider();
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult first = reconciler.sync();
      assertThat(first.status()).as("%s", first).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(first.plan().change(data("greeting")).map(Change::action)).contains(Action.CREATE);
      assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("greeting=hello\nfollower=hello-follower\n");
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("\"hello-follower\"");

      SyncResult again = reconciler.sync();
      assertThat(again.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(again.plan().changes()).as("nothing moved: every change a NOOP")
          .allMatch(c -> c.action() == Action.NOOP);

      repo.write("infra/main.tf", config("hi")).commit("hi");
      Plan changed = reconciler.plan();
      assertThat(changed.change(data("greeting")).map(Change::action)).contains(Action.UPDATE);
      assertThat(changed.change(data("follower")).map(Change::action)).as("triggers_replace")
          .contains(Action.REPLACE);
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("greeting=hi\nfollower=hi-follower\n");

      outside("apply", "-auto-approve", "-input=false", "-var", "greeting=outside");
      Plan drifted = reconciler.plan();
      assertThat(drifted.change(data("greeting")).orElseThrow().fields())
          .anySatisfy(f -> assertThat(f.before().asText()).isEqualTo("outside"));
      SyncResult corrected = reconciler.sync();
      assertThat(corrected.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("\"hi-follower\"")
          .doesNotContain("\"outside\"");

      // terraform_data's output copies its sensitive input, and Terraform leaves the copy unmarked
      Change token = corrected.plan().change(data("token")).orElseThrow();
      assertThat(token.sensitive()).anySatisfy(p -> assertThat(p.toString()).startsWith("/output"));
      StringBuilder shown = new StringBuilder();
      for (Plan p : List.of(first.plan(), changed, drifted, corrected.plan())) {
        shown.append(PlanCodec.toJson(p, reconciler.store().secretKey())).append(p);
      }
      events.forEach(e -> shown.append(e));
      assertThat(shown.toString()).doesNotContain(SECRET);
      assertThat(corrected.outcomes().get(data("token")).outputs().toString()).doesNotContain(SECRET);
      assertThat(TerraformProviderTest.savedPlans(workDir)).as("an applied plan file is removed, and so are the"
          + " plans it superseded").isZero();
    }
  }

  @Test
  void aReviewedPlanIsNotAppliedOnceTheStateMovedUnderIt() throws Exception {
    TerraformProvider tf = provider();
    try (Reconciler reconciler = reconciler(tf)) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      repo.write("infra/main.tf", config("reviewed")).commit("reviewed");
      Plan reviewed = reconciler.plan();
      outside("apply", "-auto-approve", "-input=false", "-var", "greeting=meanwhile");
      assertThatThrownBy(() -> reconciler.apply(reviewed)).isInstanceOf(dev.gitops.api.PlanMismatchException.class)
          .hasMessageContaining(reviewed.id().substring(0, 12)).hasMessageContaining("no longer holds");
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).as("nothing of the reviewed plan applied")
          .contains("\"meanwhile\"").doesNotContain("\"reviewed\"");
      // a fresh plan of the same commit applies
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("greeting=reviewed\nfollower=reviewed-follower\n");
    }
  }

  /** A variable that reaches only a provisioner: no resource document shows it, the plan must still pin it. */
  private void commitProvisionerConfig() throws Exception {
    repo.write("infra/prov.tf", """
        variable "cmd" {
          type    = string
          default = "true"
        }
        variable "pw" {
          type      = string
          default   = "unset"
          sensitive = true
        }
        resource "terraform_data" "prov" {
          input = "fixed"
          provisioner "local-exec" {
            command = "echo ${var.cmd} > ${path.module}/ran.txt"
          }
        }
        """).commit("a provisioner");
  }

  @Test
  void aReviewedPlanIsRefusedWhenAVariableChangedEvenOneNoDocumentShows() throws Exception {
    commitProvisionerConfig();
    Plan reviewed;
    String json;
    try (Reconciler reconciler = reconciler(builder().variable("cmd", "REVIEWED").variable("pw", "pw-one-1234")
        .build())) {
      reviewed = reconciler.plan();
      json = PlanCodec.toJson(reviewed, reconciler.store().secretKey());
    }
    assertThat(json).contains("REVIEWED").doesNotContain("pw-one-1234");
    try (Reconciler reconciler = reconciler(builder().variable("cmd", "EVIL").variable("pw", "pw-one-1234").build())) {
      assertThatThrownBy(() -> reconciler.apply(PlanCodec.fromJson(json)))
          .isInstanceOf(dev.gitops.api.PlanMismatchException.class).hasMessageContaining("tf:var::cmd");
    }
    try (Reconciler reconciler = reconciler(builder().variable("cmd", "REVIEWED").variable("pw", "pw-two-5678")
        .build())) {
      assertThatThrownBy(() -> reconciler.apply(PlanCodec.fromJson(json)))
          .isInstanceOf(dev.gitops.api.PlanMismatchException.class).hasMessageContaining("tf:var::pw")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("pw-one-1234").doesNotContain("pw-two-5678"));
    }
    assertThat(workDir.resolve("ran.txt")).as("nothing applied").doesNotExist();
    try (Reconciler reconciler = reconciler(builder().variable("cmd", "REVIEWED").variable("pw", "pw-one-1234")
        .build())) {
      SyncResult r = reconciler.apply(PlanCodec.fromJson(json));
      assertThat(r.status()).as("%s", r).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(Files.readString(workDir.resolve("ran.txt"))).isEqualTo("REVIEWED\n");
  }

  /** Why the last sync did not succeed: the plan's unobserved reasons and the failed outcomes. */
  private static String why(SyncResult r) {
    return r.plan().unobserved() + " " + r.outcomes().values().stream().map(Outcome::message).toList();
  }

  @Test
  void aWorkingDirectoryWithAStateGitopsDidNotMakeIsNotTakenOverAndItsObjectsAreNeverDestroyed() throws Exception {
    Files.createDirectories(workDir);
    String theirs = """
        resource "terraform_data" "greeting" {
          input = "theirs"
        }
        resource "terraform_data" "prod_db" {
          input = "precious"
        }
        """;
    Files.writeString(workDir.resolve("main.tf"), theirs);
    outside("init", "-input=false");
    outside("apply", "-auto-approve", "-input=false");

    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("refusing to take over the Terraform working directory " + workDir)
          .contains("terraform_data.prod_db").contains("main.tf").contains("--adopt");
    }
    assertThat(workDir.resolve("main.tf")).as("the operator's file is not overwritten").hasContent(theirs);
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("precious");

    // a plan only shown with adopt (gitops plan --adopt) plans the take-over but does not record it
    try (Reconciler previewing = reconciler(builder().adopt(true).preview(true).build())) {
      assertThat(previewing.plan().change(data("prod_db")).orElseThrow().reason()).contains("held back");
    }
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(why(reconciler.sync())).as("a sync without adopt is still refused")
          .contains("refusing to take over the Terraform working directory " + workDir);
    }

    TerraformProvider adopting = builder().adopt(true).build();
    try (Reconciler reconciler = reconciler(adopting)) {
      SyncResult adopted = reconciler.sync();
      assertThat(adopted.status()).as("the destroy of prod_db is held back, and the plan with it")
          .isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(adopted.plan().change(data("prod_db")).orElseThrow().reason()).contains("held back")
          .contains("before gitops managed");
      TerraformPlan pending = adopting.pendingPlan().orElseThrow();
      assertThatThrownBy(() -> adopting.apply(pending.id(), null, true,
          dev.gitops.api.spi.CallContext.of("gitops", pending.revision(), Duration.ofMinutes(2))))
          .as("not even when insisted on").hasMessageContaining("terraform_data.prod_db")
          .hasMessageContaining("never applied");
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("precious");

      // declared in Git, it is gitops's from then on: applied, and destroyed when Git drops it
      repo.write("infra/db.tf", "resource \"terraform_data\" \"prod_db\" {\n  input = \"precious\"\n}\n")
          .commit("declare the database");
      SyncResult declared = reconciler.sync();
      assertThat(declared.status()).as("%s", why(declared)).isEqualTo(SyncResult.Status.SUCCEEDED);
      repo.delete("infra/db.tf").commit("drop it");
      SyncResult dropped = reconciler.sync();
      assertThat(dropped.status()).as("%s", why(dropped)).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).doesNotContain("precious");
    }
  }

  @Test
  void aPlanNeverAppliedMakesNothingGitopsSoTheNextSyncDoesNotDestroyWhatItDeclared() throws Exception {
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    // an object made outside gitops, in the same state
    Files.writeString(workDir.resolve("ext.tf"), "resource \"terraform_data\" \"ext\" {\n  input = \"precious\"\n}\n");
    outside("apply", "-auto-approve", "-input=false");
    Files.delete(workDir.resolve("ext.tf"));
    // a branch declaring it is previewed (gitops plan --ref pr) and planned in a dry run, never applied
    repo.write("infra/ext.tf", "resource \"terraform_data\" \"ext\" {\n  input = \"precious\"\n}\n")
        .commit("a pull request declaring ext");
    try (Reconciler previewing = reconciler(builder().preview(true).build())) {
      assertThat(previewing.plan().change(data("ext")).orElseThrow().action()).isEqualTo(Action.NOOP);
    }
    try (Reconciler dryRun = reconciler(provider())) {
      dryRun.plan();
    }
    assertThat(Files.readString(workDir.resolve(".gitops-terraform/owned.json"))).doesNotContain("ext");
    repo.delete("infra/ext.tf").commit("the pull request is not merged");
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.plan().change(data("ext")).orElseThrow().reason()).contains("held back");
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).as("not destroyed").contains("precious");
  }

  @Test
  void aWorkingDirectoryHoldingOnlyAStateIsRefusedBeforeAnythingIsWrittenIntoIt() throws Exception {
    Files.createDirectories(workDir);
    Files.writeString(workDir.resolve("db.tf"), "resource \"terraform_data\" \"prod_db\" {\n  input = \"precious\"\n}\n");
    outside("init", "-input=false");
    outside("apply", "-auto-approve", "-input=false");
    Files.delete(workDir.resolve("db.tf"));  // the configuration is elsewhere now; the state and .terraform/ stay
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(why(r)).contains("refusing to take over").contains("terraform_data.prod_db");
    }
    assertThat(workDir.resolve("main.tf")).as("the revision's configuration is not written").doesNotExist();
    assertThat(workDir.resolve(".gitops-terraform/files.json")).doesNotExist();
  }

  @Test
  void anAdoptedObjectStaysHeldBackWhenTheRecordOfWhatGitopsOwnsIsLost() throws Exception {
    Files.createDirectories(workDir);
    Files.writeString(workDir.resolve("db.tf"), "resource \"terraform_data\" \"prod_db\" {\n  input = \"precious\"\n}\n"
        + "resource \"terraform_data\" \"greeting\" {\n  input = \"hello\"\n}\n");
    outside("init", "-input=false");
    outside("apply", "-auto-approve", "-input=false");
    Files.delete(workDir.resolve("db.tf"));
    try (Reconciler reconciler = reconciler(builder().adopt(true).build())) {
      SyncResult adopted = reconciler.sync();
      assertThat(adopted.plan().change(data("prod_db")).orElseThrow().reason()).contains("held back");
    }
    // the record of what gitops owns is removed (a clean-up, a restore of an older copy of .gitops-terraform)
    Files.delete(workDir.resolve(".gitops-terraform/owned.json"));
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("refusing to take over").contains("terraform_data.prod_db");
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).as("not destroyed").contains("precious");
    try (Reconciler reconciler = reconciler(builder().adopt(true).build())) {
      SyncResult again = reconciler.sync();
      assertThat(again.plan().change(data("prod_db")).orElseThrow().reason()).contains("held back");
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).as("not destroyed").contains("precious");
  }

  @Test
  void aWorkingDirectoryManagedBeforeTheRecordsExistedIsNotRefusedAfterAFailedPlan() throws Exception {
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    // as a version of gitops before owned.json and state.json left it
    Files.delete(workDir.resolve(".gitops-terraform/owned.json"));
    Files.delete(workDir.resolve(".gitops-terraform/state.json"));
    repo.write("infra/broken.tf", "resource \"terraform_data\" \"b\" {\n  input = terraform_data.nope.id\n}\n")
        .commit("a plan that fails");
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      repo.delete("infra/broken.tf").commit("fixed");
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as("%s", why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
  }

  @Test
  void anEmptiedOrReplacedStateStopsTheSyncInsteadOfRecreatingEverything() throws Exception {
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    Path state = workDir.resolve("terraform.tfstate");
    String before = Files.readString(state);
    Files.writeString(state, "");
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("the state file " + state).contains("is empty or missing");
      assertThat(state).as("nothing recreated").isEmptyFile();

      Files.writeString(state, before.replaceFirst("\"lineage\": \"[^\"]+\"", "\"lineage\": \"another-one\""));
      r = reconciler.sync();
      assertThat(why(r)).contains("the state file " + state).contains("has lineage another-one");

      Files.writeString(state, before);
      assertThat(reconciler.sync().status()).as("the state gitops knows: synced").isEqualTo(SyncResult.Status.SUCCEEDED);
    }
  }

  @Test
  void aLostWorkingDirectoryIsRefusedWhileTheRecordBesideTheStoreSaysObjectsWereApplied() throws Exception {
    Path store = tmp.resolve("state");
    try (Reconciler reconciler = reconciler(builder().stateRecordCopy(store).build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    String before = Files.readString(workDir.resolve("terraform.tfstate"));
    try (var walk = Files.walk(workDir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    try (Reconciler reconciler = reconciler(builder().stateRecordCopy(store).build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("the Terraform working directory " + workDir + " holds no state")
          .contains("with 3 objects").contains("terraform import").contains("remove " + store.resolve(
              "terraform-state-record.json"));
    }
    assertThat(workDir.resolve("terraform.tfstate")).as("nothing recreated").doesNotExist();
    assertThat(workDir.resolve("main.tf")).as("nothing written").doesNotExist();

    // restored from a backup: synced as before
    Files.createDirectories(workDir);
    Files.writeString(workDir.resolve("terraform.tfstate"), before);
    try (Reconciler reconciler = reconciler(builder().stateRecordCopy(store).adopt(true).build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).as("%s", why(r)).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(r.plan().change(data("greeting")).map(Change::action)).contains(Action.NOOP);
    }
  }

  /** A configuration whose apply fails in a provisioner after writing a resource and an output. */
  private void commitFailingProvisioner() throws Exception {
    repo.write("infra/main.tf", """
        variable "token" {
          type      = string
          sensitive = true
        }
        resource "terraform_data" "a" {
          input = "a"
        }
        resource "terraform_data" "fail" {
          input      = "f"
          depends_on = [terraform_data.a]
          provisioner "local-exec" {
            command = "sh ${path.module}/deploy.sh"
          }
        }
        output "a" {
          value = terraform_data.a.output
        }
        """);
    repo.write("infra/deploy.sh", "echo step 1 ok\necho step 2 ok\necho \"ERROR: quota exceeded for project X\" >&2\n"
        + "exit 3\n");
    repo.write("app.conf", "static\n");
    repo.commit("a provisioner that fails");
  }

  @Test
  void anOutputAFailedApplyWroteIsReportedFromTheStateNotAsFailed() throws Exception {
    commitFailingProvisioner();
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(r.outcomes().get(data("fail")).isOk()).as("%s", r.outcomes()).isFalse();
      assertThat(r.outcomes().get(data("a")).kind()).isEqualTo(Outcome.Kind.CREATED);
      Outcome output = r.outcomes().get(ResourceKey.of("tf", "output", "", "a"));
      assertThat(output.kind()).as("%s", output).isEqualTo(Outcome.Kind.CREATED);
    }
    assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).contains("\"outputs\": {\n    \"a\"");
  }

  @Test
  void aFailedApplyShowsTerraformsErrorDetailInFullNotItsFirstLine() throws Exception {
    commitFailingProvisioner();
    List<TerraformEvent> tfEvents = new CopyOnWriteArrayList<>();
    try (Reconciler reconciler = reconciler(builder().listener(tfEvents::add).build())) {
      SyncResult r = reconciler.sync();
      assertThat(r.outcomes().get(data("fail")).message()).contains("local-exec provisioner error")
          .contains("Output: step 1 ok").contains("step 2 ok").contains("ERROR: quota exceeded for project X");
    }
    assertThat(tfEvents).filteredOn(e -> e.type().equals("diagnostic")).extracting(TerraformEvent::message)
        .anySatisfy(m -> assertThat(m).contains("ERROR: quota exceeded for project X"));
  }

  @Test
  void aStateEmptiedOfItsObjectsUnderTheSameLineageAndSerialStopsTheSync() throws Exception {
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    Path state = workDir.resolve("terraform.tfstate");
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode emptied = (com.fasterxml.jackson.databind.node.ObjectNode)
        json.readTree(state.toFile());
    String before = Files.readString(state);
    long serial = emptied.path("serial").asLong();
    emptied.putArray("resources");
    Files.write(state, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(emptied));
    try (Reconciler reconciler = reconciler(provider())) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("the state file " + state).contains("has serial " + serial + " with 0 objects")
          .contains("with 3 objects").contains("changed without a new serial");
    }
    assertThat(Files.readString(state)).as("nothing recreated").doesNotContain("terraform_data");
    Files.writeString(state, before);
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
  }

  @Test
  void configurationFilesGitopsDidNotWriteAreRefusedNotApplied() throws Exception {
    try (Reconciler reconciler = reconciler(provider())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      Files.writeString(workDir.resolve("extra.tf"), "resource \"terraform_data\" \"rogue\" {\n  input = \"x\"\n}\n");
      Files.writeString(workDir.resolve("zz.auto.tfvars"), "greeting = \"stray\"\n");
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(why(r)).contains("extra.tf").contains("zz.auto.tfvars").contains("did not write");
      assertThat(Files.readString(workDir.resolve("terraform.tfstate"))).doesNotContain("rogue").doesNotContain("stray");
    }
  }

  @Test
  void configurationFilesGitopsDidNotWriteAreRefusedWhenTheTeardownIsPlannedToo() throws Exception {
    TerraformProvider tf = provider();
    String revision;
    try (Reconciler reconciler = reconciler(tf)) {
      SyncResult r = reconciler.sync();
      assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      revision = r.revision();
    }
    // an override Terraform merges into the configuration last materialized, which the teardown plans with
    Files.writeString(workDir.resolve("zz_override.tf"), "resource \"terraform_data\" \"greeting\" {\n"
        + "  input = \"overridden\"\n}\n");
    // everything removed from Git: the provider plans the teardown
    assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.of(),
        dev.gitops.api.spi.CallContext.of("gitops", revision, Duration.ofMinutes(2))))
        .hasMessageContaining("zz_override.tf").hasMessageContaining("did not write");
    assertThat(tf.pendingPlan()).as("no teardown planned with it").isEmpty();
  }

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

  @Test
  void aModuleTerraformResolvesOutsideTheWorkingDirectoryIsRefusedAfterInitBeforeAnyPlan() throws Exception {
    Files.createDirectories(tmp.resolve("x"));
    Files.writeString(tmp.resolve("x/main.tf"), "resource \"terraform_data\" \"h\" {\n  input = \"from-host\"\n}\n");
    // JSON's other spelling of blocks, a list of objects: Terraform reads it, the decoder's scan does not
    repo.write("infra/outside.tf.json", "{\"module\": [{\"host\": {\"source\": \"../x\"}}]}\n")
        .commit("a module from the host in JSON");
    try (Reconciler reconciler = reconciler(provider())) {
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

  /**
   * Commits a sensitive variable {@code pw} opened by {@code declaration} and a check whose failure
   * message quotes it, syncs with {@code provider} (which sets it), and asserts the sync succeeds and
   * that no warning shows {@code pw}.
   */
  private void assertACheckQuotingItNeverShows(String declaration, String pw, TerraformProvider.Builder provider)
      throws Exception {
    repo.write("infra/pw.tf", declaration + """

          type      = string
          sensitive = true
        }
        check "pw" {
          assert {
            condition     = var.pw == "nope"
            error_message = "pw is ${nonsensitive(var.pw)} wrong"
          }
        }
        """).commit("a check that quotes a secret: " + declaration);
    List<TerraformEvent> seen = new CopyOnWriteArrayList<>();
    try (Reconciler reconciler = reconciler(provider.listener(seen::add).build())) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(seen).filteredOn(TerraformEvent::isWarning).isNotEmpty()
        .allSatisfy(e -> assertThat(e.message()).doesNotContain(pw));
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

package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.Reconciler;
import dev.gitops.core.plan.PlanCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The provider against a real {@code terraform} (or {@code tofu}) binary on {@code PATH}, with the
 * built-in {@code terraform_data} resource, which needs no provider plugin and so no registry:
 * init, plan, show -json, apply of the saved plan, the state file, outputs feeding the files
 * provider, a change made outside, a stale pinned plan, and a sensitive value that Terraform
 * itself hands back unmarked. Skipped, saying so, where no binary is installed (the stand-in
 * tests cover the formats there).
 */
class RealTerraformTest extends RealTerraformFixture {

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

  /**
   * An object Git no longer declares, forgotten through the provider's unmark ({@code terraform
   * state rm}) before the next sync: that sync neither destroys nor recreates it, and Terraform's
   * state no longer lists it; Terraform kept the state it replaced as a backup.
   */
  @Test
  void anObjectUnmarkedBeforeTheSyncThatNoLongerDeclaresItIsLeftInPlaceAndOutOfTheState() throws Exception {
    TerraformProvider tf = provider();
    try (Reconciler reconciler = reconciler(tf)) {
      assertThat(reconciler.sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      String withoutToken = config("hello").replace("""
          resource "terraform_data" "token" {
            input = var.token
          }
          """, "");
      assertThat(withoutToken).doesNotContain("\"token\" {\n  input");
      repo.write("infra/main.tf", withoutToken).commit("token no longer declared");

      tf.unmark(data("token"), "test", dev.gitops.api.spi.CallContext.of("test", "forget", Duration.ofMinutes(1)));
      tf.unmark(data("token"), "test", dev.gitops.api.spi.CallContext.of("test", "forget", Duration.ofMinutes(1)));

      SyncResult next = reconciler.sync();
      assertThat(next.status()).as("%s", next).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(next.plan().changes()).as("neither destroyed nor recreated: every change a NOOP")
          .allMatch(c -> c.action() == Action.NOOP);
      outside("state", "list");
      assertThat(Files.readString(tmp.resolve("outside.log"))).contains("terraform_data.greeting")
          .doesNotContain("terraform_data.token");
      try (var files = Files.list(workDir)) {
        assertThat(files.map(p -> p.getFileName().toString())).as("Terraform's backup of the state it replaced")
            .anyMatch(n -> n.startsWith("terraform.tfstate.") && n.endsWith(".backup"));
      }
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

  @Test
  void aReviewedPlanIsRefusedWhenAVariableChangedEvenOneNoDocumentShows() throws Exception {
    commitProvisionerConfig();
    Plan reviewed;
    String json;
    // each provider is closed with its reconciler: a plan keeps the working directory for its apply
    // (yielding it after 10 s to another provider that waits), and each step here is another provider
    try (TerraformProvider tf = builder().variable("cmd", "REVIEWED").variable("pw", "pw-one-1234").build();
        Reconciler reconciler = reconciler(tf)) {
      reviewed = reconciler.plan();
      json = PlanCodec.toJson(reviewed, reconciler.store().secretKey());
    }
    assertThat(json).contains("REVIEWED").doesNotContain("pw-one-1234");
    try (TerraformProvider tf = builder().variable("cmd", "EVIL").variable("pw", "pw-one-1234").build();
        Reconciler reconciler = reconciler(tf)) {
      assertThatThrownBy(() -> reconciler.apply(PlanCodec.fromJson(json)))
          .isInstanceOf(dev.gitops.api.PlanMismatchException.class).hasMessageContaining("tf:var::cmd");
    }
    try (TerraformProvider tf = builder().variable("cmd", "REVIEWED").variable("pw", "pw-two-5678").build();
        Reconciler reconciler = reconciler(tf)) {
      assertThatThrownBy(() -> reconciler.apply(PlanCodec.fromJson(json)))
          .isInstanceOf(dev.gitops.api.PlanMismatchException.class).hasMessageContaining("tf:var::pw")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("pw-one-1234").doesNotContain("pw-two-5678"));
    }
    assertThat(workDir.resolve("ran.txt")).as("nothing applied").doesNotExist();
    try (TerraformProvider tf = builder().variable("cmd", "REVIEWED").variable("pw", "pw-one-1234").build();
        Reconciler reconciler = reconciler(tf)) {
      SyncResult r = reconciler.apply(PlanCodec.fromJson(json));
      assertThat(r.status()).as("%s", r).isEqualTo(SyncResult.Status.SUCCEEDED);
    }
    assertThat(Files.readString(workDir.resolve("ran.txt"))).isEqualTo("REVIEWED\n");
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
}

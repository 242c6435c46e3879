package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.Cancellation;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Source;
import dev.gitops.core.LogCapture;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.terraform.internal.Addresses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Terraform provider against a stand-in binary replaying recorded outputs: plan, apply exactly
 * that plan, approval, staleness, drift, state reading, locks, timeouts, secrets.
 */
class TerraformProviderTest {

  static final String MAIN_TF = """
      terraform {
        required_providers {
          random = { source = "hashicorp/random", version = "~> 3.5" }
        }
      }
      resource "random_pet" "name" { length = 2 }
      resource "random_password" "db" { length = 20 }
      output "name" { value = random_pet.name.id }
      output "password" {
        value     = random_password.db.result
        sensitive = true
      }
      """;
  static final String[] SECRETS = {"Zq9!pass-word-XyZ", "$2a$10$hash-of-secret", "s3cr3t-new-pw", "s3cr3t-old-pw",
      "tok-9f8e7d6c5b", "hunter2-var"};

  @TempDir
  Path tmp;
  FakeTerraform fake;
  Path work;
  final AtomicReference<State> desired = new AtomicReference<>();
  final InMemoryStateStore store = new InMemoryStateStore();
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();
  final List<TerraformEvent> tfEvents = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    fake = FakeTerraform.install(tmp, "terraform");
    work = tmp.resolve("work");
    want("main@sha1:" + "a".repeat(40), MAIN_TF);
  }

  void want(String revision, String mainTf) {
    desired.set(State.of(revision, List.of(config("main.tf", mainTf))));
  }

  static Resource config(String path, String text) {
    return Resource.of(Addresses.file("tf", path), Documents.object(Map.of("content", Documents.nodes().textNode(text))));
  }

  static ResourceKey key(String type, String name) {
    return ResourceKey.of("tf", type, "", name);
  }

  TerraformProvider.Builder builder() {
    return fake.provider(work).listener(tfEvents::add).sensitiveVariable("db_token", "hunter2-var");
  }

  Reconciler reconciler(TerraformProvider tf, SyncOptions options) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(tf).store(store).options(options)
        .listener(events::add).build();
  }

  Reconciler reconciler(TerraformProvider tf) {
    return reconciler(tf, SyncOptions.defaults());
  }

  CallContext ctx() {
    return CallContext.of("test", desired.get().revision(), Duration.ofSeconds(30));
  }

  /** The first sync: creates a pet and a password; the second plan has nothing to do. */
  void createScenario() {
    fake.respond("plan.1", 2, "plan-create.jsonl").respondResource("show-plan.1", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate")
        .respond("plan.2", 0, null).respondResource("show-plan.2", "plan-noop.json");
  }

  @Test
  void syncPlansWithTheSavedPlanFileAndAppliesExactlyThatFile() throws Exception {
    createScenario();
    SyncResult r = reconciler(builder().build()).sync();

    assertThat(r.status()).as(r.outcomes().toString()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.outcomes().get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(r.outcomes().get(key("random_password", "db")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(r.outcomes().get(key("output", "name")).outputs()).containsEntry("value",
        Documents.nodes().textNode("happy-cat"));
    assertThat(r.outcomes().get(key("output", "password")).outputs()).as("sensitive outputs never leave").isEmpty();
    assertThat(fake.commands()).containsSubsequence("version", "init", "plan", "show-plan", "apply");
    List<String> plan = fake.argv("plan").get(0);
    assertThat(plan).contains("-input=false", "-json", "-detailed-exitcode");
    String out = plan.stream().filter(a -> a.startsWith("-out=")).findFirst().orElseThrow().substring(5);
    assertThat(fake.argv("show-plan").get(0)).containsExactly("show", "-json", "-no-color", out);
    List<String> apply = fake.argv("apply").get(0);
    assertThat(apply).startsWith("apply", "-input=false", "-json").endsWith(out);
    assertThat(Files.readString(work.resolve("main.tf"))).isEqualTo(MAIN_TF);
    assertThat(Files.exists(Path.of(out))).as("an applied plan file is gone").isFalse();
    assertThat(store.load().inventory()).as("terraform's state is its inventory").isEmpty();
    assertThat(tfEvents).extracting(TerraformEvent::type).contains("apply_start", "apply_progress", "apply_complete");
    assertThat(tfEvents).filteredOn(e -> e.type().equals("apply_complete")).extracting(TerraformEvent::key)
        .containsExactlyInAnyOrder(key("random_pet", "name"), key("random_password", "db"));

    SyncResult again = reconciler(builder().build()).sync();
    assertThat(again.plan().hasChanges()).isFalse();
    assertThat(fake.argv("apply")).hasSize(1);
    assertThat(fake.argv("init")).as("init is not needed again: nothing it depends on changed").hasSize(1);
  }

  @Test
  void initRunsAgainOnlyWhenProviderRequirementsOrTheLockFileChange() {
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    reconciler(builder().build()).sync();
    want("r2", MAIN_TF.replace("length = 2", "length = 3"));
    reconciler(builder().build()).sync();
    assertThat(fake.argv("init")).hasSize(1);
    want("r3", MAIN_TF.replace("~> 3.5", "~> 3.6"));
    reconciler(builder().build()).sync();
    assertThat(fake.argv("init")).hasSize(2);
    desired.set(State.of("r4", List.of(config("main.tf", MAIN_TF.replace("~> 3.5", "~> 3.6")),
        config(".terraform.lock.hcl", "provider \"registry.terraform.io/hashicorp/random\" {}\n"))));
    reconciler(builder().build()).sync();
    assertThat(fake.argv("init")).hasSize(3);
  }

  @Test
  void variablesGoInAFileAfterTheUsersFilesAndNeverOnTheCommandLine() throws Exception {
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    desired.set(State.of(desired.get().revision(), List.of(config("main.tf", MAIN_TF),
        config("env/prod.tfvars", "size = 3\n"))));
    reconciler(builder().variable("region", "eu-west-1").varFile("env/prod.tfvars")
        .environment("TF_DATA_DIR", "/elsewhere").build()).sync();
    JsonNode call = fake.last("plan");
    List<String> argv = new ArrayList<>();
    call.path("argv").forEach(a -> argv.add(a.asText()));
    assertThat(String.join(" ", argv)).doesNotContain("eu-west-1").doesNotContain("hunter2-var");
    List<String> files = argv.stream().filter(a -> a.startsWith("-var-file=")).toList();
    assertThat(files).hasSize(2);
    assertThat(files.get(0)).isEqualTo("-var-file=" + work.resolve("env/prod.tfvars"));
    JsonNode vars = FakeTerraform.JSON.readTree(call.path("var_files").path(files.get(1).substring(10)).asText());
    assertThat(vars.path("region").asText()).isEqualTo("eu-west-1");
    assertThat(vars.path("db_token").asText()).isEqualTo("hunter2-var");
    assertThat(Files.exists(Path.of(files.get(1).substring(10)))).as("values are not left at rest").isFalse();
    assertThat(call.path("env").path("TF_IN_AUTOMATION").asText()).isEqualTo("1");
    assertThat(call.path("env").path("TF_DATA_DIR").asText()).as("the working directory's own, where init and its"
        + " modules are checked").isEqualTo(".terraform");
  }

  /** Records {@code addresses} as objects a revision of gitops's declared (what an earlier sync would leave). */
  private void owns(String... addresses) {
    try {
      Path own = Files.createDirectories(work.resolve(".gitops-terraform"));
      Files.writeString(own.resolve("owned.json"), FakeTerraform.JSON.writeValueAsString(
          Map.of("addresses", List.of(addresses), "takeOver", "new")));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static long savedPlans(Path workDir) throws java.io.IOException {
    Path plans = workDir.resolve(".gitops-terraform/plans");
    if (!Files.isDirectory(plans)) {
      return 0;
    }
    try (java.util.stream.Stream<Path> s = Files.list(plans)) {
      return s.filter(p -> p.toString().endsWith(".tfplan")).count();
    }
  }

  @Test
  void savedPlansThatCanNoLongerBeAppliedAreRemovedNotKeptOnePerSync() throws Exception {
    // each gitops plan or status is a new process with a new provider: none can apply another's plan file
    for (int i = 0; i < 3; i++) {
      fake.respond("plan", 2, null).respondResource("show-plan", "plan-mixed.json");
      reconciler(builder().approval(Approval.MANUAL).build()).plan();
      want("main@sha1:" + Integer.toString(i + 1).repeat(40), MAIN_TF);
    }
    assertThat(savedPlans(work)).as("the last plan only").isEqualTo(1);
    // a plan that cannot be used (here: an undeclared variable) is not kept either: it holds the values
    fake.respond("plan", 2, "plan-undeclared-variable-1.11.jsonl").respondResource("show-plan", "plan-mixed.json");
    reconciler(builder().variable("greting", "x").build()).plan();
    assertThat(savedPlans(work)).isEqualTo(1);
  }

  @Test
  void terraformsWarningsAreLoggedAsWarningsWithTheirDetail() {
    // a failed check block is only a warning to Terraform (recorded from 1.11.4): still worth a WARN line
    fake.respond("plan", 2, "plan-check-failed-1.11.jsonl").respondResource("show-plan", "plan-mixed.json");
    try (LogCapture logs = LogCapture.of("dev.gitops.terraform", "INFO")) {
      reconciler(builder().build()).plan();
      assertThat(logs.lines()).anySatisfy(l -> assertThat(l).contains("WARN")
          .contains("terraform plan: Warning: Check block assertion failed: n is not 5 (a check: a warning only)."));
    }
  }

  @Test
  void aVariableTheConfigurationDoesNotDeclareRefusesThePlanNamingIt() {
    // Terraform only warns about an undeclared name in a variable file (recorded from 1.11.4); -var
    // makes it an error, and so does this
    fake.respond("plan", 2, "plan-undeclared-variable-1.11.jsonl").respondResource("show-plan", "plan-mixed.json");
    TerraformProvider tf = builder().variable("greting", "hi").build();
    SyncResult r = reconciler(tf).sync();
    assertThat(r.plan().unobserved().get("plan of provider 'tf'"))
        .contains("variable 'greting' is set (--var, variable(...)) but the configuration declares no such variable")
        .contains("(it declares api_token, db_password, db_token, region)");
    assertThat(fake.argv("apply")).as("nothing applied").isEmpty();
    // Terraform's warning names the provider's own file of the --var values: shown as what the user gave
    assertThat(tfEvents).filteredOn(TerraformEvent::isWarning).extracting(TerraformEvent::message).singleElement()
        .satisfies(m -> assertThat(m).contains("variable named \"greting\" but a value was set for it on the provider"
            + " (--var, variable(...))").doesNotContain("variables.tfvars.json").doesNotContain(".gitops-terraform"));

    // the same warning about a variable file of the user's is Terraform's to give, not a refusal
    fake.respond("plan.2", 2, "plan-undeclared-variable-1.11.jsonl");
    owns("aws_instance.old");  // the plan destroys it: an earlier revision of gitops's declared it
    SyncResult own = reconciler(builder().variable("region", "eu-west-1").build()).sync();
    assertThat(own.plan().unobserved()).isEmpty();
  }

  @Test
  void terraformsWarningAboutAnUndeclaredValueInTheUsersVariableFileNamesItAsTheRepositoryHoldsIt() {
    // recorded from 1.11.4 with -var-file=env/extra.tfvars: Terraform names the copy in the working directory
    String warning = FakeTerraform.resource("plan-undeclared-variable-1.11.jsonl")
        .replace("/var/lib/gitops/tf/.gitops-terraform/variables.tfvars.json", work.resolve("env/extra.tfvars").toString());
    fake.respondStdout("plan", warning).respond("plan", 2, null).respondResource("show-plan", "plan-mixed.json");
    desired.set(State.of(desired.get().revision(), List.of(config("main.tf", MAIN_TF),
        config("env/extra.tfvars", "greting = \"hi\"\n"))));
    TerraformProvider tf = builder().sourcePath("infra").varFile("env/extra.tfvars").build();
    try (LogCapture logs = LogCapture.of("dev.gitops.terraform", "INFO")) {
      reconciler(tf).plan();
      assertThat(tfEvents).filteredOn(TerraformEvent::isWarning).extracting(TerraformEvent::message).singleElement()
          .satisfies(m -> assertThat(m).contains("variable named \"greting\" but a value was found in file"
              + " \"infra/env/extra.tfvars\"").doesNotContain(work.toString()));
      assertThat(logs.lines()).filteredOn(l -> l.contains("undeclared")).isNotEmpty()
          .allSatisfy(l -> assertThat(l).contains("infra/env/extra.tfvars").doesNotContain(work.toString()));
    }
  }

  @Test
  void everyVariableTheConfigurationDoesNotDeclareIsRefusedThoughTerraformNamesOnlyTwo() {
    // Terraform names the first two undeclared values of the variable files (in map order) and counts the
    // rest: a misspelt --var among them was planned with the default
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-mixed.json");
    SyncResult r = reconciler(builder().variable("regoin", "eu").variable("region", "eu").build()).sync();
    assertThat(r.plan().unobserved().get("plan of provider 'tf'"))
        .contains("variable 'regoin' is set (--var, variable(...)) but the configuration declares no such variable");
    assertThat(fake.argv("apply")).as("nothing applied").isEmpty();
  }

  @Test
  void sensitiveValuesNeverAppearInPlansEventsLogsOrErrors() {
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-mixed.json");
    try (LogCapture logs = LogCapture.of("dev.gitops", "TRACE")) {
      TerraformProvider tf = builder().build();
      Plan plan = reconciler(tf, SyncOptions.builder().dryRun(true).budget(
          dev.gitops.core.plan.DeletionBudget.defaults().withAllowEmpty(true).withMaxCount(-1)).build()).plan();
      StringBuilder shown = new StringBuilder(plan.toString());
      for (Change c : plan.changes()) {
        shown.append(c).append(c.live()).append(c.desired()).append(c.target()).append(c.fields()).append(c.patch());
      }
      shown.append(PlanCodec.toJson(plan, store.secretKey())).append(events).append(tfEvents);
      TerraformPlan own = tf.pendingPlan().orElseThrow();
      List<Change> provided = new ArrayList<>(own.changes());
      provided.addAll(own.drift());
      provided.addAll(tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()));
      for (Change c : provided) {
        shown.append(c).append(c.live()).append(c.desired()).append(c.target()).append(c.fields()).append(c.reason());
      }
      // A provider that quotes a secret back in an error: the message is scrubbed wherever it goes.
      fake.respond("plan.3", 1, "plan-error-leaky.jsonl");
      SyncResult failed = reconciler(tf).sync();
      assertThat(failed.plan().unobserved().get("plan of provider 'tf'")).contains("authenticating with password");
      shown.append(failed.plan().unobserved()).append(events).append(tfEvents);
      shown.append(String.join("\n", logs.lines()));
      for (String s : SECRETS) {
        assertThat(shown.toString()).doesNotContain(s);
      }
      assertThat(plan.change(key("aws_db_instance", "db")).orElseThrow().sensitive()).isNotEmpty();
    }
  }

  @Test
  void anIncompletePlanIsHeldBackAndNothingIsApplied() {
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-incomplete.json");
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().change(key("random_pet", "name")).orElseThrow().has(Change.Flag.HELD_BACK)).isTrue();
    assertThat(r.plan().unobserved().toString()).contains("complete=false").contains("1 changes deferred");
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void anErroredPlanIsNeverApplied() {
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-errored.json");
    TerraformProvider tf = builder().build();
    SyncResult r = reconciler(tf).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unobserved().toString()).contains("errored");
    String id = tf.pendingPlan().orElseThrow().id();
    assertThatThrownBy(() -> tf.apply(id, null, true, ctx())).isInstanceOf(TerraformException.class)
        .hasMessageContaining("cannot be applied");
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void aPlanFormatOfAnotherMajorVersionLeavesTheProviderUnplanned() {
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-format-2.json");
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("format_version '2.0'");
  }

  @Test
  void aPlanRepresentationCutShortIsRefusedNamingThePlanFileAndTheWorkingDirectory() {
    String full = FakeTerraform.resource("plan-create.json");
    fake.respond("plan", 2, null).respondStdout("show-plan", full.substring(0, full.length() / 2));
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    // it said only "the plan (show -json) is not valid JSON (line 38, column 3)"
    assertThat(r.plan().unobserved().get("plan of provider 'tf'"))
        .contains("terraform show -json printed of the saved plan " + work.resolve(".gitops-terraform/plans"))
        .contains(".tfplan in " + work).contains("cut short, at line");
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void exitCodeTwoMeansChangesAndExitCodeOneAnErrorWithTerraformsSummary() {
    fake.respond("plan", 1, "plan-error.jsonl");
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("terraform plan failed")
        .contains("exit 1").contains("Invalid reference");
  }

  @Test
  void aPlanWithManyErrorsNamesTheFirstTenOnceAndHowManyMoreThereWere() {
    // recorded from Terraform 1.11.4: a precondition that fails for each of 30 instances of a for_each, an error each
    fake.respond("plan", 1, "plan-precondition-for-each-1.11.jsonl");
    SyncResult r = reconciler(builder().build()).sync();
    String why = r.plan().unobserved().get("plan of provider 'tf'");
    // it listed all 30 (300 instances: 130 KB in the sync's result, its log line, the agent's status)
    assertThat(why).contains("terraform plan failed").contains("(exit 1)").endsWith("; (20 more errors)")
        .contains("Resource precondition failed: item ").contains("is not allowed here because the policy says so.");
    assertThat(why.split("Resource precondition failed", -1)).hasSize(11);
  }

  @Test
  void aPlanThatFailsPrintingNothingSaysSoRatherThanEndingAtTheExitCode() {
    fake.respond("plan", 3, null);
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    // it ended "terraform plan failed in DIR (exit 3): ", saying nothing of what was printed
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("terraform plan failed")
        .endsWith("(exit 3): it printed nothing on stdout or stderr");
  }

  @Test
  void aVariablesDeclarationInTerraformsDetailIsNamedAsTheRepositoryHoldsIt() {
    // recorded from Terraform 1.11.4: plan -var-file=prod.tfvars with n = "abc" for a number variable
    fake.respond("plan", 1, "plan-invalid-variable-value-1.11.jsonl");
    SyncResult r = reconciler(builder().configDirectory("infra").build()).sync();
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("Invalid value for input variable")
        .contains("not suitable for var.n declared at infra/main.tf:1: a number is required")
        .contains("(at infra/prod.tfvars:1)").doesNotContain("at main.tf");
  }

  @Test
  void aPlanWhoseStateMovedIsRefusedAsStale() throws Exception {
    Files.createDirectories(work);
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-before.tfstate"));
    createScenario();
    TerraformProvider tf = builder().approval(Approval.MANUAL).adopt(true).build();
    SyncResult pendingSync = reconciler(tf).sync();
    assertThat(pendingSync.plan().change(key("random_pet", "name")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(pendingSync.plan().change(key("random_pet", "name")).orElseThrow().reason()).contains("awaiting approval");
    TerraformPlan pending = tf.pendingPlan().orElseThrow();
    assertThat(pending.stateToken()).endsWith("/4");

    // someone else applied to the same state: serial 4 -> 5
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-after.tfstate"));
    assertThatThrownBy(() -> tf.apply(pending.id(), null, false, ctx())).isInstanceOf(StalePlanException.class)
        .hasMessageContaining("state moved").hasMessageContaining("/4 then").hasMessageContaining("/5 now");
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void terraformsOwnStaleRefusalIsAStalePlan() {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 1, "apply-stale.jsonl");
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    reconciler(tf).sync();
    String id = tf.pendingPlan().orElseThrow().id();
    assertThatThrownBy(() -> tf.apply(id, null, false, ctx())).isInstanceOf(StalePlanException.class)
        .hasMessageContaining("Saved plan is stale");
    assertThat(tf.pendingPlan()).as("a plan terraform refused is dropped").isEmpty();
  }

  @Test
  void aPlanOlderThanTheWantedRevisionIsRefusedUnlessTheCallerInsists() {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    reconciler(tf).sync();
    String id = tf.pendingPlan().orElseThrow().id();
    assertThatThrownBy(() -> tf.apply(id, "main@sha1:" + "b".repeat(40), false, ctx()))
        .isInstanceOf(StalePlanException.class).hasMessageContaining("is wanted");
    ApplyResult r = tf.apply(id, "main@sha1:" + "b".repeat(40), true, ctx());
    assertThat(r.isSuccessful()).isTrue();
    assertThat(r.outputs()).containsKey("name").doesNotContainKey("password");
    assertThat(r.stateToken()).endsWith("/5");
    assertThatThrownBy(() -> tf.apply(id, null, true, ctx())).as("a plan runs once")
        .isInstanceOf(StalePlanException.class).hasMessageContaining("not the pending plan");
  }

  @Test
  void manualApprovalStopsAtAPendingPlanAndTheNextSyncAppliesExactlyTheApprovedFile() {
    createScenario();
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    SyncResult first = reconciler(tf).sync();
    assertThat(first.outcomes().get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.SKIPPED);
    assertThat(fake.commands()).doesNotContain("apply");
    TerraformPlan pending = tf.pendingPlan().orElseThrow();
    assertThat(pending.id()).startsWith("tf-");
    assertThat(pending.summary()).isEqualTo("2 to add, 0 to change, 0 to destroy, 0 to replace");
    assertThatThrownBy(() -> tf.approve("tf-0000")).isInstanceOf(StalePlanException.class);

    tf.approve(pending.id());
    SyncResult second = reconciler(tf).sync();
    assertThat(second.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(second.outcomes().get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(fake.argv("plan")).as("the approved plan is not made again").hasSize(1);
    String out = fake.argv("plan").get(0).stream().filter(a -> a.startsWith("-out=")).findFirst().orElseThrow();
    assertThat(fake.argv("apply").get(0)).endsWith(out.substring(5));
  }

  @Test
  void aPendingPlanWhoseVariableFileChangedSinceIsRefusedNamingTheFileNotAppliedWithTheOldValues() throws Exception {
    Path values = tmp.resolve("prod.tfvars");
    Files.writeString(values, "size = 3\n");
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    TerraformProvider tf = builder().approval(Approval.MANUAL).varFile(values.toString()).build();
    reconciler(tf).sync();
    String id = tf.pendingPlan().orElseThrow().id();
    Files.writeString(values, "size = 5\n");
    // the saved plan holds size = 3: it was applied, though its id (revision, variables, state) is no longer current
    assertThatThrownBy(() -> tf.apply(id, null, false, ctx())).isInstanceOf(StalePlanException.class)
        .hasMessageContaining(id).hasMessageContaining("variable file " + values + " changed")
        .hasMessageContaining("plan again");
    assertThat(fake.commands()).doesNotContain("apply");
    assertThat(tf.pendingPlan()).isEmpty();
    assertThat(work.resolve(".gitops-terraform/plans/" + id + ".tfplan")).doesNotExist();
  }

  @Test
  void anApprovedPlanThatIsNoLongerCurrentIsNotAppliedAndTheNextPlanSaysWhatChanged() throws Exception {
    Path values = tmp.resolve("prod.tfvars");
    Files.writeString(values, "size = 3\n");
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json");
    TerraformProvider tf = builder().approval(Approval.MANUAL).varFile(values.toString()).build();
    reconciler(tf).sync();
    String approved = tf.pendingPlan().orElseThrow().id();
    tf.approve(approved);
    Files.writeString(values, "size = 5\n");
    SyncResult r = reconciler(tf).sync();
    String now = tf.pendingPlan().orElseThrow().id();
    assertThat(now).isNotEqualTo(approved);
    // it said only "awaiting approval of terraform plan <another id>": the approval was gone, not why
    assertThat(r.plan().change(key("random_pet", "name")).orElseThrow().reason()).contains("awaiting approval")
        .contains(now).contains("the approved plan " + approved + " was not applied")
        .contains("variable file " + values + " changed");
    assertThat(fake.commands()).doesNotContain("apply");
    assertThat(reconciler(tf).sync().plan().change(key("random_pet", "name")).orElseThrow().reason())
        .as("said once").doesNotContain(approved);
  }

  @Test
  void theSamePlanIdForTheSameRevisionVariablesAndStateAndAnotherWhenOneMoves() throws Exception {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json");
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    reconciler(tf).sync();
    String a = tf.pendingPlan().orElseThrow().id();
    reconciler(tf).sync();
    assertThat(tf.pendingPlan().orElseThrow().id()).isEqualTo(a);
    TerraformProvider other = builder().approval(Approval.MANUAL).variable("region", "us-east-1").build();
    reconciler(other).sync();
    assertThat(other.pendingPlan().orElseThrow().id()).isNotEqualTo(a);
    want("main@sha1:" + "c".repeat(40), MAIN_TF);
    reconciler(tf).sync();
    assertThat(tf.pendingPlan().orElseThrow().id()).isNotEqualTo(a);
    try (java.util.stream.Stream<Path> plans = Files.list(work.resolve(".gitops-terraform/plans"))) {
      assertThat(plans.map(p -> p.getFileName().toString()).toList()).as("a superseded plan file is removed")
          .contains(tf.pendingPlan().orElseThrow().id() + ".tfplan").doesNotContain(a + ".tfplan");
    }
  }

  @Test
  void aReviewedEnginePlanIsRefusedOnceTheStateMoved() throws Exception {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json");
    TerraformProvider tf = builder().build();
    Plan reviewed = reconciler(tf).plan();
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-before.tfstate"));
    assertThatThrownBy(() -> reconciler(tf).apply(reviewed)).isInstanceOf(PlanMismatchException.class);
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void applyOutcomesFollowTheStreamByAddress() {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 1, "apply-errored.jsonl").writesState("apply", "state-partial.tfstate");
    SyncResult r = reconciler(builder().build()).sync();
    assertThat(r.outcomes().get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.CREATED);
    Outcome pw = r.outcomes().get(key("random_password", "db"));
    assertThat(pw.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(pw.message()).contains("random_password.db").contains("quota exceeded");
    assertThat(r.outcomes().get(key("output", "name")).message()).contains("not applied").contains("exit 1");
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
  }

  @Test
  void driftIsDetectedWithARefreshOnlyPlan() {
    fake.respond("plan.1", 0, null).respondResource("show-plan.1", "plan-noop.json")
        .respond("plan.2", 2, null).respondResource("show-plan.2", "plan-refresh-only.json")
        .respond("plan.3", 0, null);
    TerraformProvider tf = builder().build();
    reconciler(tf).sync();
    List<Change> drift = tf.detectDrift(ctx());
    assertThat(fake.argv("plan").get(1)).contains("-refresh-only", "-detailed-exitcode");
    assertThat(drift).extracting(Change::key).containsExactly(key("random_pet", "name"), key("random_password", "db"));
    assertThat(drift).allSatisfy(c -> assertThat(c.drift()).isTrue());
    assertThat(drift.toString() + drift.get(1).live()).doesNotContain("pw-gone-0123");
    assertThat(tf.detectDrift(ctx())).as("exit 0: nothing drifted").isEmpty();
  }

  @Test
  void driftIsDetectedInTheProvidersWorkspaceAlsoOnceInitRanAgain() throws Exception {
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    TerraformProvider tf = builder().workspace("staging").build();
    reconciler(tf).sync();
    // .terraform/ removed (a clean-up, a new volume): init runs again and leaves terraform in the default workspace,
    // whose state a refresh-only plan then read, reporting no drift of the staging objects
    try (java.util.stream.Stream<Path> files = Files.walk(work.resolve(".terraform"))) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
    int synced = fake.commands().size();
    tf.detectDrift(ctx());
    List<String> drift = fake.commands().subList(synced, fake.commands().size());
    assertThat(drift).containsSubsequence("init", "workspace-select", "plan");
    assertThat(fake.argv("workspace-select")).last().isEqualTo(List.of("workspace", "select", "-or-create=true",
        "staging"));
  }

  @Test
  void aDetectOnlyProviderReportsDriftAndAppliesNothing() {
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-mixed.json");
    SyncResult r = reconciler(builder().detectOnly(true).build(), SyncOptions.builder().budget(
        dev.gitops.core.plan.DeletionBudget.defaults().withAllowEmpty(true).withMaxCount(-1)).build()).sync();
    assertThat(r.plan().change(key("random_pet", "name")).orElseThrow().action()).as("unchanged keys are there for dependents")
        .isEqualTo(Action.NOOP);
    assertThat(r.plan().changes()).extracting(Change::action).containsOnly(Action.NOOP, Action.SKIP);
    assertThat(r.plan().change(key("aws_instance", "web")).orElseThrow().drift()).isTrue();
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-refresh-only.json");
    r = reconciler(builder().detectOnly(true).build()).sync();
    assertThat(fake.argv("plan").get(0)).contains("-refresh-only");
    assertThat(r.plan().change(key("random_pet", "name")).orElseThrow().drift()).isTrue();
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.DriftDetected).isNotEmpty();
    assertThat(fake.commands()).doesNotContain("apply");
  }

  @Test
  void theLocalStateFileIsReadDirectlyAndARemoteBackendThroughTheBinary() throws Exception {
    Files.createDirectories(work);
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-full.tfstate"));
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    // a state gitops did not make: taken over, or the sync is refused before the configuration is written
    TerraformProvider tf = builder().adopt(true).build();
    reconciler(tf).sync();
    int calls = fake.calls().size();
    ResourceKey pet = key("random_pet", "name");
    ResourceKey subnet = ResourceKey.of("tf", "aws_subnet", "module.net", "a[\"eu-west-1a\"]");
    Map<ResourceKey, Observation> seen = tf.observe(List.of(pet, subnet, key("random_pet", "gone"),
        key("output", "name")), ctx());
    assertThat(fake.calls()).as("no process for a local state").hasSize(calls);
    assertThat(seen.get(pet).isPresent()).isTrue();
    assertThat(seen.get(pet).version()).endsWith("/7");
    assertThat(seen.get(subnet).live().get("cidr_block").asText()).isEqualTo("10.0.1.0/24");
    assertThat(seen.get(key("random_pet", "gone")).isAbsent()).isTrue();
    assertThat(seen.get(key("output", "name")).live().get("value").asText()).isEqualTo("happy-cat");

    want("r2", MAIN_TF.replace("required_providers {", "backend \"s3\" {\n bucket = \"b\"\n }\n required_providers {"));
    fake.respondResource("state-pull", "state-before.tfstate").respondResource("show-state", "state-show.json");
    reconciler(tf).sync();
    Map<ResourceKey, Observation> remote = tf.observe(List.of(key("random_password", "db")), ctx());
    assertThat(fake.commands()).contains("state-pull", "show-state");
    assertThat(remote.get(key("random_password", "db")).live().get("result").asText()).isEqualTo("(sensitive)");
    assertThat(remote.get(key("random_password", "db")).version()).endsWith("/4");
  }

  @Test
  void aWorkspaceIsSelectedBeforePlanningAndItsOwnStateFileIsRead() throws Exception {
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    Path state = work.resolve("terraform.tfstate.d/staging/terraform.tfstate");
    Files.createDirectories(state.getParent());
    Files.writeString(state, FakeTerraform.resource("state-full.tfstate"));
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-before.tfstate"));
    TerraformProvider tf = builder().workspace("staging").adopt(true).build();
    reconciler(tf).sync();
    assertThat(fake.argv("workspace-select")).containsExactly(List.of("workspace", "select", "-or-create=true",
        "staging"));
    assertThat(fake.commands().indexOf("workspace-select")).isLessThan(fake.commands().indexOf("plan"));
    assertThat(tf.observe(List.of(key("random_pet", "name")), ctx()).get(key("random_pet", "name")).version())
        .as("the workspace's state, not the default one").endsWith("/7");
    assertThatThrownBy(() -> builder().workspace("../x")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'../x'");
  }

  @Test
  void aWorkspaceNameWhoseStateFileIsAnotherWorkspacesOrThatTerraformTakesForAnOptionIsRefused() {
    // terraform 1.11.4 creates the workspace '..' and keeps its state in terraform.tfstate.d/../terraform.tfstate:
    // the default workspace's, which a plan of '..' then changes; '-x' it reads as an option of 'workspace select'
    for (String name : List.of("..", ".", "-x", "-or-create=false")) {
      assertThatThrownBy(() -> builder().workspace(name)).as(name).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + name + "'");
    }
    assertThat(builder().workspace("a.b-c_1")).isNotNull();
  }

  @Test
  void aStateThatCannotBeReadMakesEveryKeyUnknown() throws Exception {
    Files.createDirectories(work);
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-v3.tfstate"));
    Map<ResourceKey, Observation> seen = builder().build().observe(List.of(key("random_pet", "name")), ctx());
    assertThat(seen.get(key("random_pet", "name")).isUnknown()).isTrue();
    assertThat(seen.get(key("random_pet", "name")).reason()).contains("version 3");
  }

  @Test
  void aLockWhoseHolderStillRunsInTheWorkingDirectoryIsNotToBeForceUnlocked() throws Exception {
    fake.respond("plan", 1, "plan-locked.jsonl").sleeps("holder", 60);
    Files.createDirectories(work);
    // a terraform apply a gitops process that ended left running there
    ProcessBuilder pb = new ProcessBuilder(fake.binary.toString(), "holder").directory(work.toFile());
    pb.environment().put("FAKE_TF_SCENARIO", fake.scenario.toString());
    Process holder = pb.start();
    try {
      SyncResult r = reconciler(builder().build()).sync();
      String why = r.plan().unobserved().get("plan of provider 'tf'");
      assertThat(why).contains("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d").contains("alice@build-7")
          .contains("its holder is still running: terraform (pid " + holder.pid() + ") in "
              + work.toAbsolutePath().normalize())
          .contains("do not force-unlock").doesNotContain("release it with 'terraform force-unlock");
    } finally {
      holder.descendants().forEach(ProcessHandle::destroyForcibly);
      holder.destroyForcibly().waitFor();
    }
    SyncResult after = reconciler(builder().build()).sync();
    assertThat(after.plan().unobserved().get("plan of provider 'tf'")).as("once it ended: the usual advice")
        .contains("release it with 'terraform force-unlock 6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d'");
  }

  @Test
  void aLockedStateIsReportedWithItsIdHolderAndTimeAndUnlockedOnlyWhenAsked() {
    fake.respond("plan", 1, "plan-locked.jsonl");
    TerraformProvider tf = builder().build();
    SyncResult r = reconciler(tf).sync();
    String why = r.plan().unobserved().get("plan of provider 'tf'");
    assertThat(why).contains("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d").contains("alice@build-7")
        .contains("2026-11-30 08:55:12")
        // what a CLI or agent user can do: there is no flag, the working directory is Terraform's own
        .contains("'terraform force-unlock 6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d' in the working directory");
    assertThat(fake.commands()).doesNotContain("force-unlock");

    TerraformLockException e = (TerraformLockException) org.assertj.core.api.Assertions.catchThrowable(
        () -> tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()));
    assertThat(e.lockId()).isEqualTo("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d");
    assertThat(e.who()).isEqualTo("alice@build-7");
    assertThat(e.created()).isEqualTo("2026-11-30 08:55:12.123456789 +0000 UTC");
    assertThat(e.operation()).isEqualTo("OperationTypeApply");

    tf.forceUnlock(e.lockId(), ctx());
    assertThat(fake.argv("force-unlock")).containsExactly(List.of("force-unlock", "-force", e.lockId()));
    assertThatThrownBy(() -> tf.forceUnlock("-lock=false", ctx())).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aMissingBinaryIsAClearErrorNamingWhatWasLookedFor() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty-bin"));
    assertThatThrownBy(() -> TerraformProvider.builder(work).binary("tofu").searchPath(empty.toString()).build())
        .isInstanceOf(TerraformException.class).hasMessageContaining("'tofu'").hasMessageContaining(empty.toString())
        .hasMessageContaining("OpenTofu");
    assertThatThrownBy(() -> TerraformProvider.builder(work).binary(tmp.resolve("nope/terraform").toString()).build())
        .isInstanceOf(TerraformException.class).hasMessageContaining("nope/terraform").hasMessageContaining("does not exist");
  }

  @Test
  void theBinaryIsFoundOnThePathAndItsVersionReported() {
    FakeTerraform tofu = FakeTerraform.install(tmp.resolve("tofu-home"), "tofu");
    TerraformProvider tf = TerraformProvider.builder(work).binary("tofu")
        .searchPath(tmp.resolve("none") + java.io.File.pathSeparator + tofu.binary.getParent())
        .environment("FAKE_TF_SCENARIO", tofu.scenario.toString()).build();
    assertThat(tf.binary()).isEqualTo(tofu.binary);
    assertThat(tf.version(ctx())).isEqualTo("OpenTofu 1.8.0");
    assertThat(builder().build().version(ctx())).isEqualTo("Terraform 1.9.5");
  }

  @Test
  void aHangingBinaryIsKilledAtItsTimeout() {
    fake.sleeps("plan", 60);
    TerraformProvider tf = builder().commandTimeout(Duration.ofMillis(1500)).build();
    long start = System.nanoTime();
    assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining("timed out").hasMessageContaining("nothing was applied");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void aBinaryThatHangsAtVersionIsStoppedOnceAndTheErrorSaysItTimedOut() {
    fake.sleeps("version", 60);
    TerraformProvider tf = builder().commandTimeout(Duration.ofMillis(500)).build();
    // it said "does not answer 'version' (exit 143): " after asking a second time (version without -json)
    assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining(fake.binary + " version -json timed out")
        .hasMessageContaining("command timeout 500 ms").hasMessageContaining(work.toString());
    assertThat(fake.commands().stream().filter("version"::equals).count()).as("asked once").isLessThanOrEqualTo(1);
  }

  @Test
  void aBinaryThatHangsAtWorkspaceSelectIsStoppedAndTheErrorSaysItTimedOut() {
    fake.sleeps("workspace-select", 60);
    TerraformProvider tf = builder().workspace("staging").commandTimeout(Duration.ofMillis(500)).build();
    // it said "cannot select workspace 'staging' in ... (exit 143): "
    assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining("workspace select staging timed out")
        .hasMessageContaining(work.toString());
  }

  @Test
  void anApplyCutOffByItsDeadlineLeavesItsKeysUnknown() {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .sleeps("apply", 60);
    TerraformProvider tf = builder().approval(Approval.MANUAL).commandTimeout(Duration.ofMillis(1500)).build();
    reconciler(tf).sync();
    ApplyResult r = tf.apply(tf.pendingPlan().orElseThrow().id(), null, false, ctx());
    assertThat(r.outcomes().get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.UNKNOWN);
    assertThat(r.outcomes().get(key("random_pet", "name")).message()).contains("timed out");
  }

  @Test
  void resourcesOtherThanConfigurationFilesAreRefusedNamingThem() {
    Resource bad = Resource.of(key("aws_instance", "web"), Documents.emptyObject());
    assertThatThrownBy(() -> builder().build().planner().orElseThrow().plan(List.of(bad), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining(bad.key().toString())
        .hasMessageContaining("configuration files");
  }

  @Test
  void aRelativeVariableFileIsPassedAsTheFileTheCheckFoundInTheRevision() throws Exception {
    // 'env\\prod.tfvars' and './env//prod.tfvars' name the revision's env/prod.tfvars, which the check of the file
    // found; terraform was handed the path as given, a file the working directory does not have
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    desired.set(State.of(desired.get().revision(), List.of(config("main.tf", MAIN_TF),
        config("env/prod.tfvars", "size = 3\n"))));
    reconciler(builder().varFile("env\\prod.tfvars").varFile("./env//prod.tfvars").build()).sync();
    List<String> files = fake.argv("plan").get(0).stream().filter(a -> a.startsWith("-var-file=")).toList();
    assertThat(files).hasSize(3).startsWith("-var-file=" + work.resolve("env/prod.tfvars"),
        "-var-file=" + work.resolve("env/prod.tfvars"));
  }

  @Test
  void aVariableFileThatIsNotThereFailsThePlanNamingItAndWhereItWasLookedForBeforeTerraformRuns() throws Exception {
    // a relative path is the revision's file: one beside the process (as terraform -var-file reads it) is not taken
    Path beside = Path.of("local-" + System.nanoTime() + ".tfvars").toAbsolutePath();
    Files.writeString(beside, "size = 3\n");
    try {
      TerraformProvider tf = builder().varFile(beside.getFileName().toString()).build();
      assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.copyOf(desired.get().resources().values()), ctx()))
          .isInstanceOf(TerraformException.class).hasMessageContaining("variable file '" + beside.getFileName() + "'")
          .hasMessageContaining("--var-file").hasMessageContaining("not in the configuration")
          .hasMessageContaining(work.resolve(beside.getFileName().toString()).toString())
          .hasMessageContaining("absolute path");
    } finally {
      Files.delete(beside);
    }
    Path absent = tmp.resolve("nowhere/prod.tfvars");
    TerraformProvider abs = builder().varFile(absent.toString()).build();
    assertThatThrownBy(() -> abs.planner().orElseThrow().plan(List.copyOf(desired.get().resources().values()), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining("variable file '" + absent + "'")
        .hasMessageContaining("does not exist");
    assertThat(fake.commands()).as("refused before terraform inits or plans").doesNotContain("init", "plan");
    assertThat(work.resolve("main.tf")).as("nor is anything written").doesNotExist();
  }

  @Test
  void aRelativeVariableFileOutsideTheConfigurationIsRefusedByTheBuilder() {
    assertThatThrownBy(() -> builder().varFile("../env/prod.tfvars"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'../env/prod.tfvars'")
        .hasMessageContaining("absolute path");
    assertThatThrownBy(() -> builder().varFile("env/../../prod.tfvars")).isInstanceOf(IllegalArgumentException.class);
    builder().varFile("env/../prod.tfvars");  // still inside
  }

  @Test
  void configurationFilesOutsideTheWorkingDirectoryAreRefused() {
    assertThatThrownBy(() -> builder().build().planner().orElseThrow().plan(List.of(config("../evil.tf", "x")), ctx()))
        .isInstanceOf(TerraformException.class).hasMessageContaining("../evil.tf");
  }

  // ------------------------------------------------------------------ a saved plan file changed since the plan

  private Path planFile(TerraformProvider tf) {
    return work.resolve(".gitops-terraform/plans/" + tf.pendingPlan().orElseThrow().id() + ".tfplan");
  }

  @Test
  void aSavedPlanFileChangedSinceThePlanIsRefusedAsStaleAndRemoved() throws Exception {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    reconciler(tf).sync();
    String id = tf.pendingPlan().orElseThrow().id();
    Path file = planFile(tf);
    assertThat(file).exists();
    // another process (or someone) writes another plan over it: the state and revision are the same
    Files.writeString(file, "another saved plan, destroying everything");
    assertThatThrownBy(() -> tf.apply(id, null, false, ctx())).isInstanceOf(StalePlanException.class)
        .hasMessageContaining(id).hasMessageContaining(file.toString()).hasMessageContaining("changed since")
        .hasMessageContaining("SHA-256");
    assertThat(fake.commands()).as("terraform never applies it").doesNotContain("apply");
    assertThat(file).as("the refused file is removed").doesNotExist();
    assertThat(tf.pendingPlan()).isEmpty();
  }

  @Test
  void aSavedPlanFileReplacedDuringTheSyncIsNotApplied() throws Exception {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    TerraformProvider tf = builder().build();
    Path plans = work.resolve(".gitops-terraform/plans");
    Reconciler r = Reconciler.builder().source(Source.of(desired::get)).provider(tf).store(store).listener(e -> {
      if (e instanceof SyncEvent.Planned) {
        // between the plan and its apply
        try (java.util.stream.Stream<Path> files = Files.list(plans)) {
          for (Path p : files.toList()) {
            Files.writeString(p, "swapped");
          }
        } catch (java.io.IOException x) {
          throw new java.io.UncheckedIOException(x);
        }
      }
    }).build();
    SyncResult result = r.sync();
    assertThat(result.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(result.outcomes().get(key("random_pet", "name")).message()).contains("is stale")
        .contains("changed since");
    assertThat(fake.commands()).doesNotContain("apply");
    assertThat(savedPlans(work)).isZero();
  }

  @Test
  void anApprovedPlanWhoseFileChangedIsRefusedAndMustBePlannedAndApprovedAgain() throws Exception {
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    TerraformProvider tf = builder().approval(Approval.MANUAL).build();
    reconciler(tf).sync();
    String id = tf.pendingPlan().orElseThrow().id();
    tf.approve(id);
    Path file = planFile(tf);
    Files.writeString(file, "not the plan that was approved");
    SyncResult r = reconciler(tf).sync();
    assertThat(fake.commands()).as("the approved file changed: not applied").doesNotContain("apply");
    assertThat(r.status()).isEqualTo(SyncResult.Status.FAILED);
    assertThat(r.outcomes().get(key("random_pet", "name")).message()).contains("plan " + id + " is stale")
        .contains(file.toString()).contains("changed since it was made");
    assertThat(file).as("the refused file is removed").doesNotExist();
    assertThat(tf.pendingPlan()).isEmpty();

    SyncResult again = reconciler(tf).sync();
    assertThat(again.plan().change(key("random_pet", "name")).orElseThrow().reason()).as("the approval went with it")
        .contains("awaiting approval");
    assertThat(fake.commands()).doesNotContain("apply");
    tf.approve(tf.pendingPlan().orElseThrow().id());
    assertThat(reconciler(tf).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(fake.argv("apply")).hasSize(1);
  }

  // ------------------------------------------------------------------ no root configuration: a teardown

  @Test
  void aConfigurationDirectoryWithoutRootConfigurationIsATeardownThatTheDeletionGuardStops() throws Exception {
    fake.respond("plan.1", 2, "plan-create.jsonl").respondResource("show-plan.1", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate")
        .respond("plan.2", 2, null).respondResource("show-plan.2", "plan-destroy.json");
    TerraformProvider tf = builder().build();
    assertThat(reconciler(tf).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    // the root module's files are gone from Git; a module of it, a variable file and notes are left
    desired.set(State.of("main@sha1:" + "d".repeat(40), List.of(
        config("modules/net/main.tf", "resource \"random_id\" \"x\" {}\n"), config("terraform.tfvars", "x = 1\n"),
        config("README.md", "moved to infra-v2\n"))));
    assertThatThrownBy(() -> reconciler(tf).sync()).isInstanceOf(dev.gitops.api.PlanRefusedException.class)
        .hasMessageContaining("mass-deletion guard");
    assertThat(fake.argv("plan")).hasSize(2);
    assertThat(fake.argv("plan").get(1)).as("planned as the teardown it is").contains("-destroy");
    assertThat(work.resolve("main.tf")).as("with the configuration last written (its providers' settings)")
        .hasContent(MAIN_TF);
    assertThat(work.resolve("modules/net/main.tf")).doesNotExist();
    assertThat(fake.argv("apply")).as("nothing destroyed").hasSize(1);
  }

  @Test
  void anOpenTofuRootModuleIsPlannedNotTornDown() throws Exception {
    fake.respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    desired.set(State.of("main@sha1:" + "e".repeat(40), List.of(config("main.tofu", MAIN_TF),
        config("vars.tofu.json", "{}"))));
    reconciler(builder().build()).sync();
    assertThat(fake.argv("plan").get(0)).doesNotContain("-destroy");
    assertThat(work.resolve("main.tofu")).hasContent(MAIN_TF);
  }

  @Test
  void anOpenTofuEncryptedStateIsReadThroughTheBinaryNotRefusedAsCorrupt() throws Exception {
    // OpenTofu's state encryption writes terraform.tfstate as its payload: no format version, no lineage in clear
    String encrypted = "{\"meta\":{\"key_provider.pbkdf2.key\":\"eyJzYWx0IjoiQUFBQSJ9\"},"
        + "\"encrypted_data\":\"c2VhbGVkIHN0YXRlIGJ5dGVz\",\"encryption_version\":\"v0\"}";
    FakeTerraform tofu = FakeTerraform.install(tmp.resolve("opentofu"), "tofu");
    tofu.respond("plan.1", 2, "plan-create.jsonl").respondResource("show-plan.1", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesStateText("apply", encrypted)
        .respondResource("state-pull", "state-after.tfstate")
        .respond("plan.2", 0, null).respondResource("show-plan.2", "plan-noop.json");
    TerraformProvider tf = tofu.provider(work).build();
    SyncResult first = reconciler(tf).sync();
    assertThat(first.status()).as(first.outcomes().toString()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(first.outcomes().get(key("output", "name")).outputs()).as("the state read after the apply")
        .containsEntry("value", Documents.nodes().textNode("happy-cat"));
    // the next plan refused it: 'is a JSON object without a state format version: it is corrupt ... Restore it
    // from a backup', which for OpenTofu's backup, encrypted as well, is an older state
    SyncResult second = reconciler(tf).sync();
    assertThat(second.status()).as(second.plan().unobserved().toString()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(tofu.commands()).containsSubsequence("apply", "state-pull", "plan", "state-pull");
    assertThat(tf.observe(List.of(key("random_pet", "name")), ctx()).get(key("random_pet", "name")).version())
        .endsWith("/5");
    assertThatThrownBy(() -> dev.gitops.terraform.internal.StateReader.file("tf",
        encrypted.getBytes(StandardCharsets.UTF_8), work.resolve("terraform.tfstate"), null))
        .hasMessageContaining("encrypted by OpenTofu").hasMessageNotContaining("corrupt");
  }

  // ------------------------------------------------------------------ a corrupt local state

  @Test
  void aCorruptStateFileIsNamedWithItsBackupAndNothingIsPlanned() throws Exception {
    createScenario();
    TerraformProvider tf = builder().build();
    assertThat(reconciler(tf).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    Path state = work.resolve("terraform.tfstate");
    String whole = Files.readString(state);
    Files.writeString(state, whole.substring(0, whole.length() / 2));  // a write cut short
    SyncResult r = reconciler(tf).sync();
    String why = r.plan().unobserved().get("plan of provider 'tf'");
    assertThat(why).contains("the state file " + state).contains("corrupt")
        .contains(work.resolve("terraform.tfstate.backup").toString()).doesNotContain("Zq9!pass-word-XyZ");
    assertThat(fake.argv("plan")).as("nothing planned against it").hasSize(1);
    Observation seen = tf.observe(List.of(key("random_pet", "name")), ctx()).get(key("random_pet", "name"));
    assertThat(seen.isUnknown()).isTrue();
    assertThat(seen.reason()).contains("the state file " + state).contains("terraform.tfstate.backup");
  }

  // ------------------------------------------------------------------ init's errors, init's decision

  @Test
  void aFailedInitNamesTheFailingFileAsTheRepositoryHoldsItNotInitsAnnouncement() {
    // recorded from Terraform 1.11.4: init of a configuration with errors, below an announcement of them
    fake.respond("init", 1, "init-invalid-1.11.stdout")
        .respondStderr("init", FakeTerraform.resource("init-invalid-1.11.stderr"));
    SyncResult r = reconciler(builder().configDirectory("infra").build()).sync();
    String why = r.plan().unobserved().get("plan of provider 'tf'");
    assertThat(why).contains("terraform init failed").contains("Error: Invalid expression")
        .contains("on infra/main.tf line 2").doesNotContain("encountered problems").doesNotContain("Initializing")
        .doesNotContain("| on main.tf");
  }

  @Test
  void aFailedInitPrintingALogBeforeItsErrorsIsReportedByItsErrors() {
    // TF_LOG=TRACE in the environment: its log comes first on standard error, Terraform's errors last
    StringBuilder log = new StringBuilder();
    for (int i = 0; log.length() < 1024 * 1024; i++) {
      log.append("2026-12-08T00:44:45.115Z [TRACE] statemgr.Filesystem: reading line ").append(i).append('\n');
    }
    fake.respond("init", 1, "init-invalid-1.11.stdout")
        .respondStderr("init", log + FakeTerraform.resource("init-invalid-1.11.stderr"));
    SyncResult r = reconciler(builder().configDirectory("infra").build()).sync();
    // it ended with the log's last kept lines: 'terraform init failed ... (exit 1): 2026-12-08T00:44:45.115Z [TRACE] ...'
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("terraform init failed")
        .contains("Error: Invalid expression").contains("on infra/main.tf line 2").doesNotContain("[TRACE]");
  }

  @Test
  void aFailedInitNamesTheFileByItsRepositoryPathWhenTheSourceReadsTheConfigurationDirectory() {
    // the CLI's --path infra: the source hands main.tf, the repository holds infra/main.tf
    fake.respond("init", 1, "init-invalid-1.11.stdout")
        .respondStderr("init", FakeTerraform.resource("init-invalid-1.11.stderr"));
    SyncResult r = reconciler(builder().sourcePath("./infra/").build()).sync();
    assertThat(r.plan().unobserved().get("plan of provider 'tf'")).contains("on infra/main.tf line 2")
        .doesNotContain("| on main.tf");
  }

  @Test
  void initIsNotRunAgainWhenItMadeNoDataDirectoryAndNothingItDependsOnChanged() {
    fake.initMakesNoDataDirectory().respond("plan", 0, null).respondResource("show-plan", "plan-noop.json");
    String builtin = "resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n";
    want("r1", builtin);
    reconciler(builder().build()).sync();
    want("r2", builtin.replace("\"x\"", "\"y\""));
    reconciler(builder().build()).sync();
    reconciler(builder().build()).sync();
    assertThat(fake.argv("init")).as("built-in providers only: init installs nothing, and is needed once").hasSize(1);
    want("r3", builtin + "module \"m\" {\n  source = \"./m\"\n}\n");
    reconciler(builder().build()).sync();
    assertThat(fake.argv("init")).as("a module: init again").hasSize(2);
  }

  // ------------------------------------------------------------------ unmark: terraform state rm

  /** The state after the create scenario's apply without {@code random_pet.name}, at a new serial. */
  static String stateWithoutThePet() throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode state = (com.fasterxml.jackson.databind.node.ObjectNode)
        FakeTerraform.JSON.readTree(FakeTerraform.resource("state-after.tfstate"));
    state.put("serial", state.path("serial").asLong() + 1);
    com.fasterxml.jackson.databind.node.ArrayNode resources = state.withArray("resources");
    for (int i = resources.size() - 1; i >= 0; i--) {
      if (resources.get(i).path("type").asText().equals("random_pet")) {
        resources.remove(i);
      }
    }
    return FakeTerraform.JSON.writeValueAsString(state);
  }

  List<String> ownedAddresses() throws Exception {
    List<String> out = new ArrayList<>();
    FakeTerraform.JSON.readTree(work.resolve(".gitops-terraform/owned.json").toFile()).path("addresses")
        .forEach(a -> out.add(a.asText()));
    return out;
  }

  /**
   * Forgetting a Terraform object is {@code terraform state rm} of its address (with the lock
   * timeout the other commands have), in a session of the working directory, which it releases;
   * the address leaves gitops's record of what it owns. A second call finds nothing to remove and
   * runs nothing, as does a key that is no object of the state (an output).
   */
  @Test
  void unmarkRemovesTheObjectFromTheStateAndFromTheRecordOfOwnedObjectsOnce() throws Exception {
    createScenario();
    TerraformProvider tf = builder().lockTimeout(Duration.ofSeconds(7)).build();
    assertThat(reconciler(tf).sync().status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(ownedAddresses()).containsExactlyInAnyOrder("random_pet.name", "random_password.db");
    fake.respondStdout("state-rm", "Removed random_pet.name\nSuccessfully removed 1 resource instance(s).\n")
        .writesStateText("state-rm", stateWithoutThePet());
    int before = fake.commands().size();

    tf.unmark(key("random_pet", "name"), "test", ctx());

    assertThat(fake.argv("state-rm")).containsExactly(
        List.of("state", "rm", "-no-color", "-lock-timeout=7s", "random_pet.name"));
    assertThat(fake.commands().subList(before, fake.commands().size())).as("initialized already: state rm alone")
        .containsExactly("state-rm");
    assertThat(ownedAddresses()).containsExactly("random_password.db");
    assertThat(Files.readString(work.resolve(".gitops-terraform/state.json"))).as("the state's new serial recorded")
        .contains("\"serial\" : 6");

    // the session was released: another provider of this process takes the working directory at once
    TerraformProvider other = builder().workDirLockTimeout(Duration.ofMillis(300)).build();
    other.unmark(key("random_pet", "name"), "test", ctx());
    tf.unmark(key("output", "name"), "test", ctx());
    tf.unmark(key("data.aws_ami", "ubuntu"), "test", ctx());
    assertThat(fake.argv("state-rm")).as("gone already, or no object of the state: nothing run").hasSize(1);
    assertThat(ownedAddresses()).containsExactly("random_password.db");
  }

  /**
   * A record of owned objects written before instance keys were quoted as Terraform quotes them
   * holds the key <code>${a}</code> as {@code x["${a}"]}, Terraform's {@code x["$${a}"]}: it is read
   * as the key it holds, so the destroy of that object proceeds, and written anew in Terraform's
   * spelling; an entry no spelling reads is kept and warned of. Recorded from Terraform 1.11.4
   * ({@code for_each = toset(["$${a}", "b"])}, then {@code ["b"]}).
   */
  @Test
  void anOwnedObjectRecordedInTheOldSpellingOfItsKeyIsStillOwnedAndRecordedAnewInTerraformsSpelling()
      throws Exception {
    Files.createDirectories(work.resolve(".gitops-terraform"));
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-template-key-1.11.tfstate"));
    Files.writeString(work.resolve(".gitops-terraform/owned.json"), "{\"addresses\":[\"terraform_data.x[\\\"${a}\\\"]\","
        + "\"terraform_data.x[\\\"b\\\"]\",\"terraform_data.y[\\\"\\\\q\\\"]\",42],\"takeOver\":\"new\"}");
    want("r2", "resource \"terraform_data\" \"x\" {\n  for_each = toset([\"b\"])\n  input    = each.key\n}\n");
    fake.respond("plan", 2, null).respondResource("show-plan", "plan-destroy-template-key-1.11.json")
        .respond("apply", 0, "apply-destroy-template-key-1.11.jsonl")
        .writesState("apply", "state-template-key-after-1.11.tfstate");
    ResourceKey templated = key("terraform_data", "x[\"$${a}\"]");

    try (LogCapture logs = LogCapture.of("dev.gitops.terraform", "WARN")) {
      SyncResult r = reconciler(fake.provider(work).build()).sync();

      assertThat(r.plan().change(templated).orElseThrow().has(Change.Flag.HELD_BACK)).as("owned: not held back")
          .isFalse();
      assertThat(r.status()).as("%s", r.outcomes()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(r.outcomes().get(templated).kind()).isEqualTo(Outcome.Kind.DELETED);
      assertThat(fake.argv("apply")).hasSize(1);
      assertThat(logs.lines()).as("the entry no spelling reads, and the one not an address, are warned of")
          .anySatisfy(l -> assertThat(l).contains("terraform_data.y[\"\\q\"]").contains("kept as it is"))
          .anySatisfy(l -> assertThat(l).contains("(42)").contains("kept as it is"));
    }
    JsonNode record = FakeTerraform.JSON.readTree(work.resolve(".gitops-terraform/owned.json").toFile());
    assertThat(ownedAddresses()).as("rewritten in Terraform's spelling, nothing dropped").containsExactly(
        "terraform_data.x[\"$${a}\"]", "terraform_data.x[\"b\"]", "terraform_data.y[\"\\q\"]", "42");
    assertThat(record.path("addresses").get(3).isNumber()).as("kept as it was").isTrue();
    assertThat(record.path("addressSpelling").asText()).isEqualTo("terraform");
    assertThat(record.path("takeOver").asText()).isEqualTo("new");
  }

  /** A working directory never synced holds no state: nothing to remove, and nothing is created for it. */
  @Test
  void unmarkOfAWorkingDirectoryThatDoesNotExistRunsNothingAndCreatesNothing() {
    builder().build().unmark(key("random_pet", "name"), "test", ctx());
    assertThat(fake.commands()).isEmpty();
    assertThat(work).doesNotExist();
  }

  /** A working directory as a sync of the create scenario leaves it, without running one: its state and owned record. */
  void createdWithoutASync() throws Exception {
    Files.createDirectories(work.resolve(".gitops-terraform"));
    Files.writeString(work.resolve("terraform.tfstate"), FakeTerraform.resource("state-after.tfstate"));
    Files.writeString(work.resolve(".gitops-terraform/owned.json"),
        "{\"addresses\":[\"random_password.db\",\"random_pet.name\"],\"takeOver\":\"new\"}");
  }

  /**
   * A {@code state rm} that fails throws, naming the address and Terraform's error (the engine then
   * keeps the key owned), and leaves the address in gitops's record of what it owns; a locked state
   * is a {@link TerraformLockException} with the lock's id.
   */
  @Test
  void aFailedStateRmThrowsNamingTheAddressAndTheErrorAndKeepsTheObjectOwned() throws Exception {
    createdWithoutASync();
    TerraformProvider tf = builder().build();
    fake.respond("state-rm", 1, null).respondStderr("state-rm", "\nError: Failed to persist state: disk full\n\n");

    assertThatThrownBy(() -> tf.unmark(key("random_pet", "name"), "test", ctx()))
        .isInstanceOf(TerraformException.class)
        .hasMessageContaining("terraform state rm random_pet.name failed in " + work.toAbsolutePath().normalize())
        .hasMessageContaining("Error: Failed to persist state: disk full");
    assertThat(ownedAddresses()).contains("random_pet.name");

    fake.respondStderr("state-rm", "Error: Error acquiring the state lock\n\nError message: resource temporarily"
        + " unavailable\nLock Info:\n  ID:        6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d\n  Path:      terraform.tfstate\n"
        + "  Operation: OperationTypeApply\n  Who:       alice@build-7\n  Created:   2026-11-30 08:55:12 +0000 UTC\n");
    TerraformLockException locked = org.junit.jupiter.api.Assertions.assertThrows(TerraformLockException.class,
        () -> tf.unmark(key("random_pet", "name"), "test", ctx()));
    assertThat(locked.getMessage()).contains("terraform state rm random_pet.name", "locked by alice@build-7");
    assertThat(locked.lockId()).isEqualTo("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d");
    assertThat(ownedAddresses()).contains("random_pet.name");
  }

  /** A {@code state rm} while another session holds the working directory could race its apply: not run. */
  @Test
  void unmarkIsNotRunWhileAnotherSessionHoldsTheWorkingDirectory() throws Exception {
    createdWithoutASync();
    whileAnotherProcessHoldsTheWorkingDirectory("pid 4242 (ops@box), provider 'tf' applying main@sha1:1", () -> {
      TerraformProvider tf = builder().workDirLockTimeout(Duration.ofMillis(300)).build();
      assertThatThrownBy(() -> tf.unmark(key("random_pet", "name"), "test", ctx()))
          .isInstanceOf(TerraformException.class)
          .hasMessageContaining("is in use by another process: pid 4242 (ops@box), provider 'tf' applying");
    });
    assertThat(fake.commands()).doesNotContain("state-rm");
    assertThat(ownedAddresses()).contains("random_pet.name");
  }

  // ------------------------------------------------------------------ one session per working directory

  /** What a test does while another process (as it seems) holds the working directory. */
  interface WhileHeld {
    void run() throws Exception;
  }

  void whileAnotherProcessHoldsTheWorkingDirectory(String holder, WhileHeld body) throws Exception {
    Path own = Files.createDirectories(work.resolve(".gitops-terraform"));
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(own.resolve("session.lock"),
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        java.nio.channels.FileLock held = ch.lock()) {
      ch.write(java.nio.ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)));
      body.run();
    }
  }

  @Test
  void aWorkingDirectoryAnotherProcessHoldsIsNotWrittenAndTheRefusalNamesItAndItsHolder() throws Exception {
    whileAnotherProcessHoldsTheWorkingDirectory("pid 4242 (ops@box), provider 'tf' planning pr@sha1:1", () -> {
      TerraformProvider tf = builder().workDirLockTimeout(Duration.ofMillis(300)).build();
      assertThatThrownBy(() -> tf.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()))
          .isInstanceOf(TerraformException.class)
          .hasMessageContaining("the Terraform working directory " + work.toAbsolutePath().normalize() + " is in use")
          .hasMessageContaining("pid 4242 (ops@box), provider 'tf' planning pr@sha1:1")
          .hasMessageContaining("nothing was written or planned");
    });
    assertThat(work.resolve("main.tf")).as("nothing written while another holds it").doesNotExist();
    assertThat(fake.commands()).doesNotContain("init", "plan");
  }

  /**
   * A force-unlock while another gitops session holds the working directory could free the state
   * lock of a {@code terraform apply} that still runs there: it waits for the directory like a plan
   * and, still held, fails naming the holder without running {@code force-unlock}.
   */
  @Test
  void aForceUnlockIsNotRunWhileAnotherSessionHoldsTheWorkingDirectory() throws Exception {
    whileAnotherProcessHoldsTheWorkingDirectory("pid 4242 (ops@box), provider 'tf' applying main@sha1:1", () -> {
      TerraformProvider tf = builder().workDirLockTimeout(Duration.ofMillis(300)).build();
      assertThatThrownBy(() -> tf.forceUnlock("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d", ctx()))
          .isInstanceOf(TerraformException.class)
          .hasMessageContaining("is in use by another process: pid 4242 (ops@box), provider 'tf' applying");
    });
    assertThat(fake.commands()).doesNotContain("force-unlock");
    TerraformProvider tf = builder().build();
    tf.forceUnlock("6b9e1a2c-3d4f-5a6b-7c8d-9e0f1a2b3c4d", ctx());
    assertThat(fake.argv("force-unlock")).as("once the directory is free").hasSize(1);
  }

  @Test
  void aSessionHoldsTheWorkingDirectoryFromItsPlanToItsApplyAgainstAnotherProviderOfThisProcess() {
    createScenario();
    TerraformProvider first = builder().build();
    TerraformProvider second = builder().workDirLockTimeout(Duration.ofMillis(300)).build();
    List<Change> planned = first.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx());

    assertThatThrownBy(() -> second.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx()))
        .as("between the first's plan and its apply").isInstanceOf(TerraformException.class)
        .hasMessageContaining("is in use by another provider of this process: pid " + ProcessHandle.current().pid())
        .hasMessageContaining("provider 'tf' planning");
    assertThat(fake.argv("plan")).as("the second planned nothing").hasSize(1);

    Map<ResourceKey, Outcome> applied = first.applyAll(planned.stream()
        .filter(c -> c.action() != Action.NOOP).toList(), ctx());
    assertThat(applied.get(key("random_pet", "name")).kind()).isEqualTo(Outcome.Kind.CREATED);
    // the apply ended the session: the other provider may plan now
    second.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx());
    assertThat(fake.argv("plan")).hasSize(2);
  }

  /**
   * The sessions kept between a plan and its apply are all released by one shared thread. That
   * thread must not wait for a provider busy with a long command (here another working
   * directory's {@code state pull}, while that provider's own kept session is due): every other
   * provider's kept session would be held past its time, and whoever waits for it refused.
   */
  @Test
  void aKeptSessionIsReleasedOnTimeWhileAnotherProviderRunsALongCommand() throws Exception {
    FakeTerraform slowFake = FakeTerraform.install(tmp.resolve("slow"), "terraform");
    slowFake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respondResource("state-pull", "state-after.tfstate");
    TerraformProvider slow = slowFake.provider(tmp.resolve("slow-work")).adopt(true)
        .interruptGrace(Duration.ofMillis(100)).sessionKeptFor(Duration.ofMillis(300), Duration.ofMinutes(1)).build();
    String withBackend = MAIN_TF.replace("required_providers {", "backend \"s3\" {\n bucket = \"b\"\n }\n"
        + " required_providers {");
    slow.planner().orElseThrow().plan(List.of(config("main.tf", withBackend)), ctx());  // kept 300 ms
    slowFake.sleeps("state-pull", 20);
    Cancellation stop = new Cancellation();
    CallContext pullCtx = new CallContext("test", desired.get().revision(), Instant.now().plusSeconds(30), stop);
    Thread pull = new Thread(() -> {
      try {
        slow.planner().orElseThrow().stateToken(pullCtx);
      } catch (RuntimeException e) {
        // cancelled below, once the test has seen what it needs
      }
    }, "slow-state-pull");
    pull.start();
    try {
      Thread.sleep(400);  // the slow provider's keeping is due while its state pull runs
      createScenario();
      TerraformProvider first = builder().sessionKeptFor(Duration.ofMillis(500), Duration.ofMinutes(1)).build();
      first.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx());  // kept 500 ms for its apply
      TerraformProvider second = builder().workDirLockTimeout(Duration.ofSeconds(5)).build();
      second.planner().orElseThrow().plan(List.of(config("main.tf", MAIN_TF)), ctx());
      assertThat(pull.isAlive()).as("the first's session was released while the state pull still ran").isTrue();
      assertThat(fake.argv("plan")).hasSize(2);
    } finally {
      stop.cancel("the test has seen what it needs");
      pull.join(10_000);
    }
  }
}

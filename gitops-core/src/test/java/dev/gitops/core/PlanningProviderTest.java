package dev.gitops.core;

import static dev.gitops.core.FakePlanningProvider.config;
import static dev.gitops.core.FakePlanningProvider.obj;
import static dev.gitops.core.FakePlanningProvider.output;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Source;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.ShownText;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A planning provider (a miniature Terraform) inside the engine: its changes are one unit of the
 * dependency graph, guarded, masked, recorded in its own state only, and reviewed like any other;
 * its outputs feed other providers' documents.
 */
class PlanningProviderTest {

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();
  final FakePlanningProvider fake = new FakePlanningProvider();
  final MapProvider files = new MapProvider("m", false);
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  static JsonNode json(String s) {
    return ReconcilerTest.json(s);
  }

  static ResourceKey m(String name) {
    return ResourceKey.of("m", "thing", "", name);
  }

  static Resource tfConfig(String doc) {
    return Resource.of(config("main.tf"), json(doc));
  }

  void want(String revision, Resource... rs) {
    desired.set(State.of(revision, List.of(rs)));
  }

  Reconciler reconciler(SyncOptions options) {
    return Reconciler.builder().source(Source.of(desired::get)).provider(fake).provider(files).store(store)
        .owner("me").options(options).listener(events::add).build();
  }

  Reconciler reconciler() {
    return reconciler(SyncOptions.defaults());
  }

  @Test
  void aPlanningProvidersChangesArePlannedByItAndAppliedInOneCall() {
    want("r1", tfConfig("{'objects':{'web':{'size':1},'db':{'size':2}}}"));
    SyncResult r = reconciler().sync();

    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(r.plan().change(obj("web")).orElseThrow().action()).isEqualTo(Action.CREATE);
    assertThat(r.plan().change(obj("db")).orElseThrow().action()).isEqualTo(Action.CREATE);
    assertThat(r.plan().change(config("main.tf"))).as("configuration files are not changes").isEmpty();
    assertThat(fake.calls).containsExactly(List.of(obj("db"), obj("web")));
    assertThat(fake.objects).containsKeys("web", "db");
    assertThat(r.outcomes().get(obj("web")).kind()).isEqualTo(Outcome.Kind.CREATED);
    assertThat(store.load().inventory()).as("its own state is its inventory").isEmpty();

    SyncResult again = reconciler().sync();
    assertThat(again.plan().hasChanges()).isFalse();
    assertThat(fake.calls).hasSize(1);
  }

  @Test
  void aDependencyOnAnyKeyOfTheUnitWaitsForTheWholeUnit() {
    List<String> order = new CopyOnWriteArrayList<>();
    fake.order = order;
    files.beforeApply = c -> order.add(c.key().toString());
    Resource app = Resource.builder(m("app")).document(json("{'x':1}")).dependsOn(obj("db")).build();
    Resource viaConfig = Resource.builder(m("cfg")).document(json("{'x':2}")).dependsOn(config("main.tf")).build();
    want("r1", tfConfig("{'objects':{'web':{'size':1},'db':{'size':2}}}"), app, viaConfig);

    Plan plan = reconciler().plan();
    assertThat(plan.dependencies().get(m("app"))).containsExactlyInAnyOrder(obj("db"), obj("web"));
    assertThat(plan.dependencies().get(m("cfg"))).containsExactlyInAnyOrder(obj("db"), obj("web"));

    SyncResult r = reconciler().sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(order.indexOf(m("app").toString())).isGreaterThan(order.indexOf(obj("web").toString()));
    assertThat(order.indexOf(m("cfg").toString())).isGreaterThan(order.indexOf(obj("db").toString()));
  }

  @Test
  void theUnitWaitsForWhatItsDeclaredResourcesDependOn() {
    Resource base = Resource.of(m("base"), json("{'x':1}"));
    Resource cfg = Resource.builder(config("main.tf")).document(json("{'objects':{'web':{'size':1},'db':{'size':2}}}"))
        .dependsOn(m("base")).build();
    want("r1", base, cfg);
    Plan plan = reconciler().plan();
    assertThat(plan.dependencies().get(obj("web"))).containsExactly(m("base"));
    assertThat(plan.dependencies().get(obj("db"))).containsExactly(m("base"));
  }

  @Test
  void aDependencyOnAKeyTheUnitDidNotPlanIsAnErrorNamingIt() {
    Resource app = Resource.builder(m("app")).document(json("{'x':1}")).dependsOn(obj("typo")).build();
    want("r1", tfConfig("{'objects':{'web':{'size':1}}}"), app);
    assertThatThrownBy(() -> reconciler().plan()).isInstanceOf(DecodeException.class)
        .hasMessageContaining(obj("typo").toString()).hasMessageContaining("did not plan");
  }

  @Test
  void aCycleThroughTheUnitIsNamed() {
    Resource app = Resource.builder(m("app")).document(json("{'x':1}")).dependsOn(obj("web")).build();
    Resource cfg = Resource.builder(config("main.tf")).document(json("{'objects':{'web':{'size':1}}}"))
        .dependsOn(m("app")).build();
    want("r1", app, cfg);
    assertThatThrownBy(() -> reconciler().plan()).isInstanceOf(dev.gitops.api.DependencyCycleException.class)
        .hasMessageContaining(m("app").toString());
  }

  @Test
  void itsDeletesCountForTheMassDeletionGuardAgainstWhatItsStateHolds() {
    want("r1", tfConfig("{'objects':{'web':{'size':1},'db':{'size':2}},'outputs':{'url':'web.size'}}"));
    reconciler().sync();
    want("r2", tfConfig("{'objects':{}}"));

    Plan plan = reconciler().plan();
    assertThat(plan.changes(Action.DELETE)).extracting(Change::key).containsExactlyInAnyOrder(obj("web"), obj("db"));
    assertThatThrownBy(() -> reconciler().sync()).isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining("deletes or replaces all 2 resources");
    assertThat(fake.objects).containsKeys("web", "db");

    SyncResult allowed = reconciler(SyncOptions.builder().budget(
        dev.gitops.core.plan.DeletionBudget.defaults().withAllowEmpty(true)).build()).sync();
    assertThat(allowed.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(fake.objects).isEmpty();
  }

  @Test
  void aUnitDestroyingMoreThanTheBudgetIsRefusedNamingItsProviderAndWhatItsPlannerManages() {
    want("r1", tfConfig("{'objects':{'a':{'size':1},'b':{'size':1},'c':{'size':1},'d':{'size':1}},"
        + "'outputs':{'url':'a.size'}}"));
    reconciler().sync();
    want("r2", tfConfig("{'objects':{'a':{'size':1}},'outputs':{'url':'a.size'}}"));
    SyncOptions two = SyncOptions.builder().budget(dev.gitops.core.plan.DeletionBudget.defaults().withMaxCount(2))
        .build();

    Plan plan = reconciler(two).plan();
    assertThat(plan.owned()).as("its own state is its inventory; the output is not managed")
        .containsEntry(FakePlanningProvider.ID, 4);
    assertThat(PlanCodec.fromJson(PlanCodec.toJson(plan, store.secretKey())).owned())
        .as("the plan file carries the owned count").containsEntry(FakePlanningProvider.ID, 4);
    assertThatThrownBy(() -> reconciler(two).sync()).isInstanceOfSatisfying(PlanRefusedException.class, e -> {
      assertThat(e.provider()).isEqualTo(FakePlanningProvider.ID);
      assertThat(e.limit()).isEqualTo(PlanRefusedException.Limit.MAX_COUNT);
      assertThat(e.deletions()).isEqualTo(3);
      assertThat(e.owned()).isEqualTo(4);
      assertThat(e.getMessage()).contains("'" + FakePlanningProvider.ID + "'").contains("3 of 4 owned resources");
    });
    assertThat(fake.objects).as("nothing of the unit ran").containsOnlyKeys("a", "b", "c", "d");
  }

  @Test
  void withPruneDisabledAUnitThatDeletesIsRefusedWhole() {
    want("r1", tfConfig("{'objects':{'web':{'size':1},'db':{'size':2}}}"));
    reconciler().sync();
    want("r2", tfConfig("{'objects':{'web':{'size':5}}}"));
    SyncOptions noPrune = SyncOptions.builder().prune(false).build();

    Plan plan = reconciler(noPrune).plan();
    assertThat(plan.change(obj("db")).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThatThrownBy(() -> reconciler(noPrune).sync()).isInstanceOf(PlanRefusedException.class)
        .hasMessageContaining("prune is disabled").hasMessageContaining(obj("db").toString());
    assertThatThrownBy(() -> reconciler(noPrune.toBuilder().dryRun(true).build()).sync()).isInstanceOf(PlanRefusedException.class);
    assertThat(fake.objects.get("web").get("size").asInt()).as("nothing of the unit ran").isEqualTo(1);
  }

  @Test
  void sensitiveValuesOfPlannedChangesAreHiddenEverywhereTheyAreShown() {
    String secret = "hunter2-very-secret";
    fake.objects.put("web", json("{'size':1,'id':7,'secret_token':'old-" + secret + "'}"));
    want("r1", tfConfig("{'objects':{'web':{'size':1,'secret_token':'" + secret + "'}}}"));
    try (LogCapture logs = LogCapture.of("dev.gitops", "DEBUG")) {
      Plan plan = reconciler().plan();
      Change web = plan.change(obj("web")).orElseThrow();
      assertThat(web.sensitive()).contains(FieldPath.of("secret_token"));
      String shown = web.toString() + web.live() + web.target() + web.desired() + web.patch() + web.fields()
          + PlanCodec.toJson(plan, store.secretKey());
      assertThat(shown).doesNotContain(secret);
      assertThat(web.fields()).filteredOn(f -> f.path().equals(FieldPath.of("secret_token")))
          .singleElement().satisfies(f -> assertThat(f.sensitive()).isTrue());

      SyncResult r = reconciler().sync();
      assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(fake.received).isNotEmpty();
      assertThat(fake.received.toString()).doesNotContain(secret);
      fake.received.forEach(c -> assertThat("" + c.live() + c.target() + c.desired() + c.patch() + c.fields())
          .as("what the provider is handed is masked too: it applies its own plan").doesNotContain(secret));
      assertThat(events.toString()).doesNotContain(secret);
      assertThat(String.join("\n", logs.lines())).doesNotContain(secret);
    }
  }

  @Test
  void theProvidersAndTheUsersSensitiveRulesHidePlannedValuesEverywhere() {
    // The fake masks only attributes named secret*: these two are sensitive by rule alone.
    String byProvider = "provider-rule-secret-4711";
    String byUser = "user-rule-secret-0815";
    fake.rules = MergeRules.builder().sensitive("/api_key", KeySelector.type("fake", "obj")).build();
    SyncOptions options = SyncOptions.builder()
        .rules(MergeRules.builder().sensitive("/password", KeySelector.type("fake", "obj")).build()).build();
    fake.objects.put("web", json("{'size':1,'id':7,'api_key':'old-" + byProvider + "','password':'old-" + byUser + "'}"));
    fake.objects.put("gone", json("{'size':1,'id':8,'password':'gone-" + byUser + "'}"));
    want("r1", tfConfig("{'objects':{'web':{'size':1,'api_key':'" + byProvider + "','password':'" + byUser + "'},"
        + "'db':{'size':2,'password':'db-" + byUser + "'}}}"));
    try (LogCapture logs = LogCapture.of("dev.gitops", "DEBUG")) {
      Plan plan = reconciler(options).plan();
      assertThat(plan.change(obj("web")).orElseThrow().sensitive())
          .contains(FieldPath.of("api_key"), FieldPath.of("password"));
      assertThat(plan.change(obj("db")).orElseThrow().action()).isEqualTo(Action.CREATE);
      assertThat(plan.change(obj("gone")).orElseThrow().action()).isEqualTo(Action.DELETE);
      List<String> shown = new java.util.ArrayList<>(List.of(PlanCodec.toJson(plan, store.secretKey()),
          plan.toString(), dev.gitops.core.redact.Redactor.marking().redact(plan).toString()));
      for (Change c : plan.changes()) {
        shown.add(c.toString());
        shown.add(ShownText.of(c));
        shown.add(ShownText.of(dev.gitops.core.redact.Redactor.marking().redact(c)));
      }
      SyncResult r = reconciler(options).sync();
      assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
      assertThat(fake.received).isNotEmpty();
      fake.received.forEach(c -> shown.add(ShownText.of(c)));
      events.forEach(e -> shown.add(ShownText.of(e)));
      shown.add(String.join("\n", logs.lines()));
      for (String text : shown) {
        assertThat(text).doesNotContain(byProvider).doesNotContain(byUser);
      }
    }
    want("r2", tfConfig("{'objects':{'web':{'size':1,'password':'x'}}}"),
        Resource.of(m("app"), json("{'v':'${outputs:fake:obj::web:password}'}")));
    assertThatThrownBy(() -> reconciler(options).plan()).as("a user-sensitive value is not handed out either")
        .isInstanceOf(DecodeException.class).hasMessageContaining("sensitive");
  }

  @Test
  void aPlannerThatFailsLeavesItsKeysUnknownHoldsDependentsAndMakesThePlanIncomplete() {
    files.put(m("gone"), json("{'x':0}"));
    Resource app = Resource.builder(m("app")).document(json("{'x':1}")).dependsOn(obj("web")).build();
    want("r0", Resource.of(m("gone"), json("{'x':0}")));
    reconciler().sync();
    want("r1", tfConfig("{'objects':{'web':{'size':1}}}"), app);
    fake.planFailure = new IllegalStateException("Error acquiring the state lock (ID 1234)");

    SyncResult r = reconciler().sync();
    assertThat(r.plan().isComplete()).isFalse();
    assertThat(r.plan().unobserved()).containsKey("plan of provider 'fake'");
    assertThat(r.plan().unobserved().get("plan of provider 'fake'")).contains("ID 1234");
    assertThat(r.plan().change(obj("web")).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(r.plan().change(m("gone")).orElseThrow().has(Change.Flag.HELD_BACK)).as("deletes are held back").isTrue();
    assertThat(r.outcomes().get(m("app")).isOk()).isFalse();
    assertThat(r.outcomes().get(m("app")).message()).contains("blocked by " + obj("web"));
    assertThat(r.status()).isNotEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(files.live).containsKey(m("gone"));
  }

  @Test
  void changesTheProviderHoldsBackMakeThePlanIncompleteAndRunNothing() {
    want("r1", tfConfig("{'objects':{'web':{'size':1}}}"));
    fake.holdBack = "its plan is incomplete (complete=false)";
    SyncResult r = reconciler().sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.INCOMPLETE);
    assertThat(r.plan().unobserved().get("plan of provider 'fake'")).contains("complete=false");
    assertThat(fake.calls).isEmpty();
  }

  @Test
  void anOutputKnownWhenPlanningIsSubstitutedIntoTheDependentsDocument() {
    fake.objects.put("web", json("{'size':3,'id':7}"));
    fake.outputs.put("url", json("7"));
    want("r1", tfConfig("{'objects':{'web':{'size':3}},'outputs':{'url':'web.id'}}"),
        Resource.of(m("app"), json("{'url':'http://host:${outputs:fake:output::url:value}/x','id':'${outputs:fake:obj::web:id}'}")));

    Plan plan = reconciler().plan();
    Change app = plan.change(m("app")).orElseThrow();
    assertThat(app.target()).isEqualTo(json("{'url':'http://host:7/x','id':7}"));
    assertThat(app.unknown()).isEmpty();
    assertThat(plan.dependencies().get(m("app"))).contains(obj("web"), output("url"));
    SyncResult r = reconciler().sync();
    assertThat(files.live.get(m("app"))).isEqualTo(json("{'url':'http://host:7/x','id':7}"));
    assertThat(store.load().inventory().get(m("app")).resource().document())
        .isEqualTo(json("{'url':'http://host:7/x','id':7}"));
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
  }

  @Test
  void anOutputKnownOnlyAfterApplyIsShownUnknownAndResolvedBeforeTheDependentIsApplied() {
    want("r1", tfConfig("{'objects':{'web':{'size':3}},'outputs':{'url':'web.id'}}"),
        Resource.of(m("app"), json("{'url':'${outputs:fake:output::url:value}','port':'p-${outputs:fake:obj::web:id}','n':1}")));

    Plan plan = reconciler().plan();
    Change app = plan.change(m("app")).orElseThrow();
    assertThat(app.action()).isEqualTo(Action.CREATE);
    assertThat(app.unknown()).containsExactlyInAnyOrder(FieldPath.of("url"), FieldPath.of("port"));
    assertThat(app.reason()).contains("known after apply");

    SyncResult r = reconciler().sync();
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    JsonNode id = fake.objects.get("web").get("id");
    JsonNode applied = json("{'url':" + id + ",'port':'p-" + id.asText() + "','n':1}");
    assertThat(files.live.get(m("app"))).isEqualTo(applied);
    assertThat(store.load().inventory().get(m("app")).resource().document()).isEqualTo(applied);
    ChangeStartedOf started = new ChangeStartedOf(events, m("app"));
    assertThat(started.change().target()).as("the event shows what was sent").isEqualTo(applied);

    SyncResult again = reconciler().sync();
    assertThat(again.plan().hasChanges()).as("resolved values are what was recorded").isFalse();
  }

  @Test
  void aDependentWhoseOutputDidNotComeFailsNamingTheReference() {
    want("r1", tfConfig("{'objects':{'web':{'size':3}},'outputs':{'url':'web.id'}}"),
        Resource.of(m("app"), json("{'url':'${outputs:fake:obj::web:address}'}")));
    SyncResult r = reconciler().sync();
    assertThat(r.outcomes().get(m("app")).isOk()).isFalse();
    assertThat(r.outcomes().get(m("app")).message()).contains("no output 'address'").contains("[id]");
    assertThat(files.live).doesNotContainKey(m("app"));
  }

  @Test
  void badOutputReferencesAreErrorsNamingTheResourceAndTheReference() {
    fake.objects.put("web", json("{'size':3,'id':7,'secret_pw':'x'}"));
    Resource cfg = tfConfig("{'objects':{'web':{'size':3,'secret_pw':'x'}}}");
    for (String[] c : new String[][] {
        {"${outputs:fake:obj::web:secret_pw}", "sensitive"},
        {"${outputs:fake:obj::nope:id}", "planned no fake:obj::nope"},
        {"${outputs:m:thing::a:x}", "not a key of a planning provider"},
        {"${outputs:fake:obj:web:id}", "malformed output reference"},
        {"${outputs:fake:obj::web:colour}", "has no field 'colour'"},
        {"x ${outputs:fake:obj::web:id", "unterminated"}}) {
      want("r1", cfg, Resource.of(m("app"), json("{'v':'" + c[0] + "'}")));
      assertThatThrownBy(() -> reconciler().plan()).as(c[0]).isInstanceOf(DecodeException.class)
          .hasMessageContaining(m("app").toString()).hasMessageContaining(c[1]);
    }
  }

  @Test
  void anEscapedReferenceIsLiteralText() {
    want("r1", tfConfig("{'objects':{}}"), Resource.of(m("app"), json("{'v':'$${outputs:fake:obj::web:id}'}")));
    reconciler().sync();
    assertThat(files.live.get(m("app"))).isEqualTo(json("{'v':'${outputs:fake:obj::web:id}'}"));
  }

  @Test
  void aReviewedPlanIsRefusedOnceTheProvidersStateMoved() {
    want("r1", tfConfig("{'objects':{'web':{'size':1}}}"));
    reconciler().sync();
    want("r1", tfConfig("{'objects':{'web':{'size':2}}}"));
    Plan reviewed = reconciler().plan();
    assertThat(reconciler().plan().id()).as("a plan is reproducible").isEqualTo(reviewed.id());

    fake.serial++;  // someone else applied to the same state
    assertThatThrownBy(() -> reconciler().apply(reviewed)).isInstanceOf(PlanMismatchException.class);
    assertThat(fake.objects.get("web").get("size").asInt()).isEqualTo(1);

    Plan fresh = reconciler().plan();
    // a plan file round trip (the CLI's plan --out / sync --plan) keeps the unit's changes
    Plan readBack = PlanCodec.fromJson(PlanCodec.toJson(fresh, store.secretKey()));
    assertThat(readBack.id()).isEqualTo(fresh.id());
    assertThat(readBack.change(obj("web")).orElseThrow().unknown()).isEqualTo(fresh.change(obj("web")).orElseThrow().unknown());
    SyncResult r = reconciler().apply(readBack);
    assertThat(r.status()).isEqualTo(SyncResult.Status.SUCCEEDED);
    assertThat(fake.objects.get("web").get("size").asInt()).isEqualTo(2);
  }

  @Test
  void removingEverythingOfTheProviderFromGitPlansItsTeardownWithTheSameGuard() {
    want("r1", tfConfig("{'objects':{'web':{'size':1}}}"), Resource.of(m("a"), json("{'x':1}")));
    reconciler().sync();
    want("r2", Resource.of(m("a"), json("{'x':1}")));
    Plan plan = reconciler().plan();
    assertThat(plan.change(obj("web")).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThatThrownBy(() -> reconciler().sync()).isInstanceOf(PlanRefusedException.class);
  }

  /** The ChangeStarted event of {@code key}. */
  record ChangeStartedOf(List<SyncEvent> events, ResourceKey key) {
    Change change() {
      return events.stream().filter(e -> e instanceof SyncEvent.ChangeStarted s && s.change().key().equals(key))
          .map(e -> ((SyncEvent.ChangeStarted) e).change()).findFirst().orElseThrow();
    }
  }
}

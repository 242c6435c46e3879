package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Health;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.PatchOp;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.DelegatingProvider;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.ShownText;
import dev.gitops.core.store.InMemoryStateStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Sensitive values never reach the store, a plan file, an event or history in plain text, yet changes and drift are seen. */
class SecretsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "db");
  static final ResourceKey SECRET = ResourceKey.of("m", "secret", "", "db-credentials");
  /** What a provider such as Kubernetes says about its Secrets. */
  static final MergeRules SECRET_RULES = MergeRules.builder().sensitive("/data/*", KeySelector.type("m", "secret")).build();

  final AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of()));
  final InMemoryStateStore store = new InMemoryStateStore();
  final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  static Resource db(String password) {
    return Resource.builder(KEY).document(ReconcilerTest.json("{'user':'app','password':'" + password + "'}"))
        .sensitive(Set.of(PathPattern.of("/password"))).build();
  }

  static Resource secret(String data) {
    return Resource.of(SECRET, ReconcilerTest.json("{'kind':'Secret','data':" + data + "}"));
  }

  Reconciler reconciler(Provider p, SyncOptions options) {
    return Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .owner("me").options(options.toBuilder().rules(SECRET_RULES).build()).listener(events::add).build();
  }

  @Test
  void secretIsHashedInTheStoreAndPlanFileButChangesAndDriftAreDetected() {
    MapProvider p = new MapProvider("m", false);
    desired.set(State.of("r1", List.of(db("hunter2-first"))));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    rec.sync();
    assertThat(p.live.get(KEY).get("password").asText()).isEqualTo("hunter2-first");

    String stored = Documents.canonicalJson(store.load().inventory().get(KEY).resource().document());
    assertThat(stored).doesNotContain("hunter2-first").contains("hmac-sha256:");
    assertThat(rec.plan().hasChanges()).as("a hashed secret still matches its value").isFalse();

    desired.set(State.of("r2", List.of(db("hunter2-second"))));
    Plan plan = rec.plan();
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(KEY).orElseThrow().fields()).singleElement().satisfies(f -> assertThat(f.sensitive()).isTrue());
    String file = PlanCodec.toJson(plan, store.secretKey());
    assertThat(file).doesNotContain("hunter2-first").doesNotContain("hunter2-second");
    rec.sync();
    assertThat(p.live.get(KEY).get("password").asText()).isEqualTo("hunter2-second");
    assertThat(store.history().toString()).doesNotContain("hunter2");

    p.put(KEY, ReconcilerTest.json("{'user':'app','password':'changed-by-hand'}"));
    Plan drift = rec.plan();
    assertThat(drift.change(KEY).orElseThrow().drift()).isTrue();
    assertThat(PlanCodec.toJson(drift, store.secretKey())).doesNotContain("changed-by-hand").doesNotContain("hunter2-second");
  }

  @Test
  void deleteHidesTheLiveSecret() {
    MapProvider p = new MapProvider("m", false);
    Resource keep = ReconcilerTest.res("keep", "{'a':1}");
    desired.set(State.of("r1", List.of(secret("{'password':'delete-me-pw'}"), db("delete-me-marked"), keep)));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    rec.sync();
    desired.set(State.of("r2", List.of(keep)));
    Plan plan = rec.plan();
    assertThat(plan.change(SECRET).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.DELETE);
    assertHidden(plan, "delete-me-pw", "delete-me-marked");
    rec.sync();
    assertEventsHide("delete-me-pw", "delete-me-marked");
  }

  @Test
  void orphanHidesTheLiveSecret() {
    MapProvider p = new MapProvider("m", true);
    p.put(SECRET, ReconcilerTest.json("{'kind':'Secret','data':{'password':'orphan-pw'}}"));
    p.markOf.put(SECRET, new OwnerMark("me", SECRET));
    Reconciler rec = reconciler(p, SyncOptions.builder().rebuildStore(true).build());
    Plan plan = rec.plan();
    assertThat(plan.change(SECRET).orElseThrow().has(Change.Flag.ORPHAN)).isTrue();
    assertThat(plan.change(SECRET).orElseThrow().live()).isNotNull();
    assertHidden(plan, "orphan-pw");
    assertEventsHide("orphan-pw");
  }

  @Test
  void skipOfAnUnobservableKeyHidesTheDesiredSecret() {
    MapProvider p = new MapProvider("m", false);
    p.unobservable.add(SECRET);
    p.unobservable.add(KEY);
    desired.set(State.of("r1", List.of(secret("{'password':'unknown-pw'}"), db("unknown-marked"))));
    Plan plan = reconciler(p, SyncOptions.defaults()).plan();
    assertThat(plan.change(SECRET).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.SKIP);
    assertHidden(plan, "unknown-pw", "unknown-marked");
    assertEventsHide("unknown-pw", "unknown-marked");
  }

  @Test
  void fieldGitRemovedStaysHiddenUnderARuleAndUnderADroppedMark() {
    MapProvider p = new MapProvider("m", false);
    desired.set(State.of("r1", List.of(secret("{'user':'app','password':'removed-pw'}"), db("removed-marked"))));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    rec.sync();
    // Git drops the Secret's password, and the other resource's password together with its mark.
    desired.set(State.of("r2", List.of(secret("{'user':'app'}"),
        Resource.of(KEY, ReconcilerTest.json("{'user':'app'}")))));
    Plan plan = rec.plan();
    assertThat(plan.change(SECRET).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.change(KEY).orElseThrow().action()).isEqualTo(Action.UPDATE);
    for (ResourceKey k : List.of(SECRET, KEY)) {
      assertThat(plan.change(k).orElseThrow().fields()).filteredOn(f -> f.symbol() == '-').singleElement()
          .satisfies(f -> assertThat(f.sensitive()).isTrue());
    }
    assertHidden(plan, "removed-pw", "removed-marked");
    rec.sync();
    assertEventsHide("removed-pw", "removed-marked");
  }

  @Test
  void patchValuesAreHiddenWhereTheyHoldASecretAndKeptWhereTheyDoNot() {
    MapProvider p = new MapProvider("m", false);
    desired.set(State.of("r1", List.of(secret("{'user':'app','password':'patch-pw'}"))));
    Reconciler rec = reconciler(p, SyncOptions.defaults());
    Plan create = rec.plan();
    List<PatchOp> patch = dev.gitops.core.redact.Redactor.marking().redact(create.change(SECRET).orElseThrow()).patch();
    assertThat(patch).isNotEmpty();
    assertThat(Documents.canonicalJson(patch.get(0).value())).doesNotContain("patch-pw").contains("\"kind\":\"Secret\"");
    assertHidden(create, "patch-pw");
  }

  @Test
  void aProviderErrorQuotingASecretIsHiddenInTheResultEventsAndHistory() {
    MapProvider real = new MapProvider("m", false);
    Provider quoting = new DelegatingProvider(real) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        if (change.key().equals(KEY)) {  // an API server echoing the object it refused
          return Outcome.permanentFailure("refused " + Documents.canonicalJson(change.target()) + ": password "
              + change.target().get("password").asText() + " is too weak", null);
        }
        // a client library throwing with the value in its message
        throw new IllegalStateException("bad request: data.password=" + change.target().get("data").get("password").asText());
      }
    };
    desired.set(State.of("r1", List.of(db("quoted-pw-1"), secret("{'password':'thrown-pw-2'}"))));
    SyncResult result = reconciler(quoting, SyncOptions.defaults()).sync();

    assertThat(result.outcomes().get(KEY).message()).startsWith("refused {").endsWith(" is too weak")
        .contains(dev.gitops.core.redact.Redactor.MARKER).doesNotContain("quoted-pw-1");
    assertThat(result.outcomes().get(SECRET).kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(result.outcomes().get(SECRET).toString()).contains("bad request: data.password=")
        .doesNotContain("thrown-pw-2");
    assertThat(result.toString()).doesNotContain("quoted-pw-1").doesNotContain("thrown-pw-2");
    assertEventsHide("quoted-pw-1", "thrown-pw-2");
    assertThat(store.history().toString()).contains("FAILED").doesNotContain("quoted-pw-1").doesNotContain("thrown-pw-2");
  }

  @Test
  void aHealthMessageQuotingASecretIsHiddenInTheResultAndEvents() {
    MapProvider real = new MapProvider("m", false);
    AtomicInteger checks = new AtomicInteger();
    Provider quoting = new DelegatingProvider(real) {
      @Override
      public Health health(ResourceKey key, Observation observation) {
        String pw = observation.live().get("password").asText();
        return checks.incrementAndGet() == 1 ? Health.progressing("checking password " + pw)
            : Health.degraded("rejected password " + pw);
      }
    };
    desired.set(State.of("r1", List.of(db("health-pw-3"))));
    SyncOptions polling = SyncOptions.builder()
        .execution(ExecutionOptions.defaults().withHealthPollInterval(Duration.ofMillis(10))).build();
    SyncResult result = reconciler(quoting, polling).sync();

    assertThat(checks).hasValue(2);
    assertThat(result.outcomes().get(KEY).message())
        .isEqualTo("created but degraded: rejected password " + dev.gitops.core.redact.Redactor.MARKER);
    assertThat(events).filteredOn(e -> e instanceof SyncEvent.WaitingForHealth).singleElement()
        .satisfies(e -> assertThat(e.toString()).contains("checking password").doesNotContain("health-pw-3"));
    assertEventsHide("health-pw-3");
  }

  @Test
  void aVerificationFailureQuotingASecretIsHiddenInTheResultAndEvents() {
    MapProvider real = new MapProvider("m", false);
    Provider quoting = new DelegatingProvider(real) {
      @Override
      public JsonNode normalize(ResourceKey key, JsonNode live) {  // runs when the write is observed again
        throw new IllegalStateException("cannot normalize password " + live.get("password").asText());
      }
    };
    desired.set(State.of("r1", List.of(db("verify-pw-4"))));
    SyncResult result = reconciler(quoting, SyncOptions.defaults()).sync();

    assertThat(result.outcomes().get(KEY).message()).contains("cannot be verified")
        .contains("cannot normalize password " + dev.gitops.core.redact.Redactor.MARKER).doesNotContain("verify-pw-4");
    assertEventsHide("verify-pw-4");
  }

  @Test
  void anObservationErrorQuotingASecretIsHiddenInThePlanEventsAndHistory() {
    MapProvider real = new MapProvider("m", false);
    desired.set(State.of("r1", List.of(db("observe-pw-5"), secret("{'password':'observe-pw-6'}"))));
    reconciler(real, SyncOptions.defaults()).sync();
    Provider quoting = new DelegatingProvider(real) {
      @Override
      public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
        // a client library refusing to read the object back, with the value in its message
        Map<ResourceKey, Observation> out = new LinkedHashMap<>(real.observe(keys, ctx));
        out.computeIfPresent(SECRET, (k, o) -> Observation.unknown(k, "cannot decode data.password="
            + o.live().get("data").get("password").asText()));
        return out;
      }

      @Override
      public JsonNode normalize(ResourceKey key, JsonNode live) {  // runs while the plan observes
        throw new IllegalStateException("cannot normalize password " + live.get("password").asText());
      }
    };
    Reconciler rec = reconciler(quoting, SyncOptions.defaults());
    Plan plan;
    try (LogCapture logs = LogCapture.of("dev.gitops", "DEBUG")) {
      plan = rec.plan();
      assertThat(logs.lines()).anyMatch(l -> l.contains("failed to normalize " + KEY));
      assertThat(logs.lines())
          .allSatisfy(l -> assertThat(l).doesNotContain("observe-pw-5").doesNotContain("observe-pw-6"));
    }
    for (ResourceKey k : List.of(KEY, SECRET)) {
      Change c = plan.change(k).orElseThrow();
      assertThat(c.action()).isEqualTo(Action.SKIP);
      assertThat(c.reason()).startsWith("could not observe: ").contains(dev.gitops.core.redact.Redactor.MARKER);
    }
    assertHidden(plan, "observe-pw-5", "observe-pw-6");
    SyncResult result = rec.sync();
    assertThat(result.toString()).doesNotContain("observe-pw-5").doesNotContain("observe-pw-6");
    assertThat(result.plan().change(SECRET).orElseThrow().reason()).contains("cannot decode data.password=");
    assertEventsHide("observe-pw-5", "observe-pw-6");
    assertThat(store.history().toString()).doesNotContain("observe-pw-5").doesNotContain("observe-pw-6");
  }

  /** Neither the plan file, nor any text of the plan, nor a redacted copy of any document of it holds a secret. */
  private void assertHidden(Plan plan, String... secrets) {
    List<String> texts = new ArrayList<>();
    texts.add(PlanCodec.toJson(plan, store.secretKey()));
    texts.add(plan.toString());
    Plan shown = dev.gitops.core.redact.Redactor.marking().redact(plan);
    for (Change c : shown.changes()) {
      texts.add(c.toString());
      texts.add(ShownText.of(c));
      c.fields().forEach(f -> texts.add(f.toString()));
    }
    for (String t : texts) {
      for (String s : secrets) {
        assertThat(t).doesNotContain(s);
      }
    }
  }

  /** Every event a listener got, with every document it carries, is free of the secrets. */
  private void assertEventsHide(String... secrets) {
    assertThat(events).isNotEmpty();
    for (SyncEvent e : events) {
      String all = ShownText.of(e);
      for (String s : secrets) {
        assertThat(all).doesNotContain(s);
      }
    }
  }
}

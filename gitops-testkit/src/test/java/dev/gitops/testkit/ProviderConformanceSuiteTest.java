package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The suite must fail providers that break the contract, not only pass good ones. */
class ProviderConformanceSuiteTest {

  /** Guesses ABSENT where it cannot look, fails deletes of missing objects, and names no key. */
  static final class SloppyProvider implements Provider {
    final InMemoryProvider inner = InMemoryProvider.builder().id("mem").build();

    @Override
    public String id() {
      return "mem";
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      inner.observe(keys, ctx).forEach((k, o) -> out.put(k, o.isUnknown() ? Observation.absent(k) : o));
      return out;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      if (change.target() == null && change.desired() != null) {
        return Outcome.permanentFailure("something went wrong", null);
      }
      if (change.action() == dev.gitops.api.Action.DELETE && !inner.contains(change.key())) {
        return Outcome.permanentFailure("not found", null);
      }
      return inner.apply(change, ctx);
    }
  }

  static final class SloppySuite extends ProviderConformanceSuite<SloppyProvider> {
    @Override
    protected SloppyProvider newProvider() {
      return new SloppyProvider();
    }

    @Override
    protected List<Resource> sampleResources() {
      return List.of(Resource.of(ResourceKey.of("mem", "t", "", "a"), LocalFilesProviderConformanceTest.json("{}")));
    }

    @Override
    protected boolean makeUnobservable(SloppyProvider p, ResourceKey key) {
      p.inner.makeUnobservable(key);
      return true;
    }

    @Override
    protected Optional<Change> invalidChange(SloppyProvider p) {
      Resource r = sampleResources().get(0);
      return Optional.of(Change.create(r, "bad"));
    }
  }

  /** Lays every target over the live object, so a field the target removed stays live. */
  static final class MergingProvider extends ForwardingProvider {
    MergingProvider() {
      super(InMemoryProvider.builder().id("mem").build());
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      if (change.action() != dev.gitops.api.Action.UPDATE || change.live() == null) {
        return super.apply(change, ctx);
      }
      Map<String, com.fasterxml.jackson.databind.JsonNode> merged = new LinkedHashMap<>();
      change.live().properties().forEach(e -> merged.put(e.getKey(), e.getValue()));
      change.target().properties().forEach(e -> merged.put(e.getKey(), e.getValue()));
      com.fasterxml.jackson.databind.JsonNode target = dev.gitops.api.Documents.object(merged);
      return super.apply(Change.builder(change.key(), change.action()).resource(change.resource())
          .live(change.live()).desiredDocument(change.desired()).target(target).reason(change.reason()).build(), ctx);
    }
  }

  static final class MergingSuite extends ProviderConformanceSuite<MergingProvider> {
    @Override
    protected MergingProvider newProvider() {
      return new MergingProvider();
    }

    @Override
    protected List<Resource> sampleResources() {
      return List.of(Resource.of(ResourceKey.of("mem", "t", "", "a"),
          LocalFilesProviderConformanceTest.json("{\"keep\":1,\"drop\":{\"x\":1}}")));
    }

    @Override
    protected Optional<Resource> modify(Resource r) {
      return Optional.of(r.withDocument(LocalFilesProviderConformanceTest.json("{\"keep\":2}")));
    }
  }

  @Test
  void failsAProviderThatKeepsAFieldTheTargetRemoved() throws Exception {
    MergingSuite s = new MergingSuite();
    s.createProvider();
    // the looser default comparison of updates passes it: only the new test catches it
    s.updateConverges();
    assertThatThrownBy(s::aFieldRemovedFromTheTargetDisappearsLive).isInstanceOf(AssertionError.class)
        .hasMessageContaining("field /drop was removed from the target but is still live");
  }

  private SloppySuite suite() throws Exception {
    SloppySuite s = new SloppySuite();
    s.createProvider();
    return s;
  }

  @Test
  void failsAProviderThatGuessesAbsentForUnobservableObjects() throws Exception {
    SloppySuite s = suite();
    assertThatThrownBy(s::unknownIsReportedRatherThanGuessed).isInstanceOf(AssertionError.class)
        .hasMessageContaining("UNKNOWN");
  }

  @Test
  void failsAProviderWhoseDeleteOfAMissingObjectFails() throws Exception {
    SloppySuite s = suite();
    assertThatThrownBy(s::deleteOfAMissingResourceSucceeds).isInstanceOf(AssertionError.class)
        .hasMessageContaining("not found");
  }

  @Test
  void failsAProviderWhoseErrorsDoNotNameTheKey() throws Exception {
    SloppySuite s = suite();
    assertThatThrownBy(s::errorsCarryTheKey).isInstanceOf(AssertionError.class)
        .hasMessageContaining("something went wrong");
  }

  /**
   * A planning provider that leaks: its plan shows a sensitive value in plain text, and it applies
   * a plan after its state moved (it never looks at the state token).
   */
  static final class CarelessPlanningProvider extends ForwardingProvider {
    int serial;
    boolean applied;

    CarelessPlanningProvider() {
      super(InMemoryProvider.builder().id("mem").build());
    }

    @Override
    public Optional<dev.gitops.api.spi.ProviderPlanner> planner() {
      return Optional.of(new dev.gitops.api.spi.ProviderPlanner() {
        @Override
        public List<Change> plan(List<Resource> desired, CallContext ctx) {
          ResourceKey k = ResourceKey.of("mem", "t", "", "a");
          com.fasterxml.jackson.databind.JsonNode doc = LocalFilesProviderConformanceTest.json("{\"pw\":\"hunter2\"}");
          return List.of(Change.builder(k, applied ? dev.gitops.api.Action.NOOP : dev.gitops.api.Action.CREATE)
              .desiredDocument(doc).target(doc).reason("create")
              .sensitive(java.util.Set.of(dev.gitops.api.FieldPath.of("pw"))).build());
        }

        @Override
        public String stateToken(CallContext ctx) {
          return "s" + serial;
        }
      });
    }

    @Override
    public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
      applied = true;
      serial++;
      Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
      changes.forEach(c -> out.put(c.key(), Outcome.created()));
      return out;
    }
  }

  static final class CarelessPlanningSuite extends ProviderConformanceSuite<CarelessPlanningProvider> {
    @Override
    protected CarelessPlanningProvider newProvider() {
      return new CarelessPlanningProvider();
    }

    @Override
    protected List<Resource> sampleResources() {
      return List.of(Resource.of(ResourceKey.of("mem", "cfg", "", "main"), LocalFilesProviderConformanceTest.json("{}")));
    }

    @Override
    protected boolean moveStateBehindItsBack(CarelessPlanningProvider p) {
      p.serial += 10;
      return true;
    }
  }

  @Test
  void failsAPlanningProviderThatShowsSensitiveValuesOrAppliesAStalePlan() throws Exception {
    CarelessPlanningSuite s = new CarelessPlanningSuite();
    s.createProvider();
    assertThatThrownBy(s::plannedChangesNameThisProviderAndHideSensitiveValues).isInstanceOf(AssertionError.class)
        .hasMessageContaining("sensitive /pw is hidden");
    s.createProvider();
    assertThatThrownBy(s::aPlanWhoseStateMovedIsNotApplied).isInstanceOf(AssertionError.class)
        .hasMessageContaining("applied from a stale plan");
    s.createProvider();
    // and the tests that apply hand-built changes are skipped for it, not failed
    assertThatThrownBy(s::createIsIdempotent).isInstanceOf(org.opentest4j.TestAbortedException.class);
  }
}

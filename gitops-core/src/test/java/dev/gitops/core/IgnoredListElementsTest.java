package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Documents;
import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Ignore rules over list elements hold through a whole sync: the store never owns them, prune never takes them. */
class IgnoredListElementsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "web");

  static Resource web(String json) {
    return Resource.builder(KEY).document(ReconcilerTest.json(json)).build();
  }

  @Test
  void elementsAtIgnoredPathsSurviveLeavingGitAndNeverEnterTheStore() {
    MergeRules rules = MergeRules.builder()
        .keyedList("/containers", KeyField.of("name"))
        .orderedKeyedList("/steps", KeyField.of("name"))
        .setList("/finalizers")
        .ignore("/containers/[name=sidecar]")
        .ignore("/steps/[name=injected]")
        .ignore("/finalizers/[=theirs]")
        .build();
    MapProvider p = new MapProvider("m", false);
    InMemoryStateStore store = new InMemoryStateStore();
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(web(
        "{'containers':[{'name':'app'},{'name':'sidecar'}],'steps':[{'name':'a'},{'name':'injected'}],"
            + "'finalizers':['ours','theirs']}"))));
    Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .options(SyncOptions.builder().rules(rules).build()).build();
    rec.sync();
    String stored = Documents.canonicalJson(store.load().inventory().get(KEY).resource().document());
    assertThat(stored).doesNotContain("sidecar").doesNotContain("injected").doesNotContain("theirs");

    desired.set(State.of("r2", List.of(web("{'containers':[{'name':'app'}],'steps':[{'name':'a'}],'finalizers':['ours']}"))));
    rec.sync();
    assertThat(p.live.get(KEY)).isEqualTo(ReconcilerTest.json(
        "{'containers':[{'name':'app'},{'name':'sidecar'}],'steps':[{'name':'a'},{'name':'injected'}],"
            + "'finalizers':['ours','theirs']}"));
    assertThat(rec.plan().hasChanges()).isFalse();
  }

  /**
   * A desired document that breaks a keyed-list rule (an element without its key, two with one
   * key) is named at the file and line that declare it, as a decode error, not by the key alone.
   */
  @Test
  void aKeyedListElementWithoutItsKeyIsNamedAtItsFileAndLine() {
    MergeRules rules = MergeRules.builder().keyedList("/containers", KeyField.of("name")).build();
    Resource bad = Resource.builder(KEY).origin(dev.gitops.api.Origin.of("apps/web.yaml", 7, "r1"))
        .document(ReconcilerTest.json("{'containers':[{'name':'app'},{'image':'x'}]}")).build();
    MapProvider p = new MapProvider("m", false);
    Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(() -> State.of("r1", List.of(bad))))
        .provider(p).store(new InMemoryStateStore()).options(SyncOptions.builder().rules(rules).build()).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(rec::plan)
        .isInstanceOfSatisfying(dev.gitops.api.DecodeException.class, e -> {
          assertThat(e.origin().path()).isEqualTo("apps/web.yaml");
          assertThat(e.getMessage()).startsWith("apps/web.yaml:7").contains(KEY.toString()).contains("/containers")
              .contains("fix it in the repository");
        });
    assertThat(p.live).as("nothing applied").isEmpty();
  }
}

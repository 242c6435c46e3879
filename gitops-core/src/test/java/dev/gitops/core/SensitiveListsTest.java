package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.MergeRules;
import dev.gitops.api.MergeRules.KeyField;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A sensitive path inside a list hides its values in every rendering, plan file, event and in the
 * store, whatever the list's kind: an atomic list (the default kind, compared and replaced whole)
 * is hidden whole, a set element by a keyed hash, a keyed element's field by itself.
 */
class SensitiveListsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "entry", "", "s");

  static Stream<Arguments> cases() {
    MergeRules defaults = MergeRules.defaults();
    return Stream.of(
        Arguments.of("atomic list, resource mark /items/*/secret", defaults, Set.of("/items/*/secret"),
            "{'items':[{'name':'x','secret':'hunter2-a'}]}", "{'items':[{'name':'x','secret':'hunter2-b'}]}"),
        Arguments.of("atomic list, rule /items/*/secret", MergeRules.builder().sensitive("/items/*/secret",
            dev.gitops.api.KeySelector.ANY).build(), Set.of(),
            "{'items':[{'name':'x','secret':'hunter2-a'}]}", "{'items':[{'name':'x','secret':'hunter2-b'}]}"),
        Arguments.of("atomic list of scalars, /tokens/*", defaults, Set.of("/tokens/*"),
            "{'tokens':['hunter2-a','plain']}", "{'tokens':['hunter2-b','plain']}"),
        Arguments.of("atomic list in a list, /**/password", defaults, Set.of("/**/password"),
            "{'a':[{'b':[{'password':'hunter2-a'}]}]}", "{'a':[{'b':[{'password':'hunter2-b'}]}]}"),
        Arguments.of("set list, resource mark /tokens/*", MergeRules.builder().setList("/tokens").build(),
            Set.of("/tokens/*"), "{'tokens':['hunter2-a','hunter2-c']}", "{'tokens':['hunter2-b','hunter2-c']}"),
        Arguments.of("keyed list, resource mark /items/*/secret",
            MergeRules.builder().keyedList("/items", KeyField.of("name")).build(), Set.of("/items/*/secret"),
            "{'items':[{'name':'x','secret':'hunter2-a'}]}", "{'items':[{'name':'x','secret':'hunter2-b'}]}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void noValueUnderASensitivePathShowsAnywhere(String name, MergeRules rules, Set<String> marks, String before,
      String after, @TempDir Path dir) throws IOException {
    Set<PathPattern> sensitive = new java.util.HashSet<>();
    marks.forEach(m -> sensitive.add(PathPattern.of(m)));
    MapProvider provider = new MapProvider("m", false);
    AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(resource(before, sensitive))));
    List<SyncEvent> events = new CopyOnWriteArrayList<>();
    FileStateStore store = FileStateStore.open(dir.resolve("store"));
    List<String> shown = new ArrayList<>();
    try (Reconciler rec = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(provider)
        .store(store).options(SyncOptions.builder().rules(rules).build()).listener(events::add).build()) {
      Plan create = rec.plan();
      shown.add(PlanRenderer.text(create));
      SyncResult first = rec.sync();
      assertThat(first.isSuccessful()).as(first.toString()).isTrue();

      desired.set(State.of("r2", List.of(resource(after, sensitive))));
      Plan update = rec.plan();
      assertThat(update.hasChanges()).as("the change is seen").isTrue();
      shown.add(PlanRenderer.text(update));
      shown.add(PlanRenderer.markdown(update));
      shown.add(PlanRenderer.json(update, store.secretKey()));
      shown.add(PlanCodec.toJson(update, store.secretKey()));
      shown.add(update.toString());
      SyncResult second = rec.sync();
      assertThat(second.isSuccessful()).as(second.toString()).isTrue();
      // the secret did reach the live system: hiding is of what is shown and kept, not what is applied
      assertThat(provider.live.get(KEY).toString()).contains("hunter2-b");
      // drift on the hidden value is still seen
      provider.put(KEY, ReconcilerTest.json(after.replace("hunter2-b", "hunter2-z")));
      Plan drift = rec.plan();
      assertThat(drift.hasChanges()).as("drift under a sensitive path is seen").isTrue();
      shown.add(PlanRenderer.text(drift));
      shown.add(PlanCodec.toJson(drift, store.secretKey()));
    }
    events.forEach(e -> shown.add(e.toString()));
    try (Stream<Path> files = Files.walk(dir.resolve("store"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f)) {
          shown.add(f + ": " + new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        }
      }
    }
    assertThat(shown).allSatisfy(s -> assertThat(s).doesNotContain("hunter2"));
  }

  static Resource resource(String json, Set<PathPattern> sensitive) {
    return Resource.builder(KEY).document(ReconcilerTest.json(json)).sensitive(sensitive).build();
  }
}

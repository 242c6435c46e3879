package dev.gitops.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.Resource;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.store.InMemoryStateStore;
import dev.gitops.testkit.InMemoryProvider;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Which notifications real syncs give, and which repeats are kept quiet. */
class NotificationListenerTest {

  static final ObjectMapper JSON = new ObjectMapper();

  final InMemoryProvider live = InMemoryProvider.builder().id("memory").build();
  final InMemoryStateStore store = new InMemoryStateStore();
  final AtomicReference<State> desired = new AtomicReference<>();
  final AtomicReference<RuntimeException> sourceFailure = new AtomicReference<>();
  final List<Notification> sent = new CopyOnWriteArrayList<>();

  Reconciler reconciler(SyncOptions options) {
    Source source = request -> {
      if (sourceFailure.get() != null) {
        throw sourceFailure.get();
      }
      return desired.get();
    };
    return Reconciler.builder().source(source).provider(live).store(store).options(options)
        .listener(new NotificationListener("web", "memory", sent::add)).build();
  }

  static String rev(char c) {
    return "main@sha1:" + String.valueOf(c).repeat(40);
  }

  void want(String revision, int... values) {
    List<Resource> rs = new java.util.ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      rs.add(Resource.of(live.key("thing", "", "r" + i), JSON.createObjectNode().put("v", values[i])));
    }
    desired.set(State.of(revision, rs));
  }

  List<Event> events() {
    return sent.stream().map(Notification::event).toList();
  }

  @Test
  void aNewRevisionStartsAndSucceedsAndAQuietResyncSaysNothing() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want(rev('a'), 1, 2);
    r.sync();
    r.sync();
    r.sync();
    assertThat(events()).containsExactly(Event.SYNC_STARTED, Event.SYNC_SUCCEEDED);
    assertThat(sent.get(1).message()).isEqualTo("synced main@aaaaaaa: 2 created");
    assertThat(sent.get(1).counts()).containsEntry("CREATED", 2);
    assertThat(sent).allMatch(n -> n.target().equals("web") && n.provider().equals("memory"));
  }

  @Test
  void driftIsAnnouncedWithItsPathsAndWhetherItWasCorrected() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want(rev('a'), 1, 2);
    r.sync();
    sent.clear();
    live.put(live.key("thing", "", "r1"), JSON.createObjectNode().put("v", 99));
    r.sync();
    assertThat(events()).containsExactly(Event.DRIFT_DETECTED, Event.SYNC_SUCCEEDED);
    Notification drift = sent.get(0);
    assertThat(drift.severity()).isEqualTo(Severity.WARNING);
    assertThat(drift.message()).isEqualTo("1 resource changed outside gitops at main@aaaaaaa, corrected");
    assertThat(drift.resources()).containsExactly(live.key("thing", "", "r1") + ": /v");
    assertThat(sent.get(1).message()).isEqualTo("synced main@aaaaaaa: 1 updated");

    sent.clear();
    live.put(live.key("thing", "", "r1"), JSON.createObjectNode().put("v", 98));
    reconciler(SyncOptions.builder().detectOnly(true).build()).sync();
    assertThat(sent).filteredOn(n -> n.event() == Event.DRIFT_DETECTED).singleElement()
        .satisfies(n -> assertThat(n.message()).endsWith(", not corrected"));
  }

  @Test
  void lastingDriftIsAnnouncedOnceAndAgainWhenTheDriftedSetChanges() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want(rev('a'), 1, 2, 3);
    r.sync();
    Reconciler detect = reconciler(SyncOptions.builder().detectOnly(true).build());
    live.put(live.key("thing", "", "r1"), JSON.createObjectNode().put("v", 99));
    sent.clear();
    for (int i = 0; i < 3; i++) {
      detect.sync();
    }
    assertThat(sent).filteredOn(n -> n.event() == Event.DRIFT_DETECTED).as("one announcement for three syncs")
        .singleElement().satisfies(n -> assertThat(n.resources()).containsExactly(live.key("thing", "", "r1") + ": /v"));

    sent.clear();
    live.put(live.key("thing", "", "r2"), JSON.createObjectNode().put("v", 98));
    detect.sync();
    detect.sync();
    assertThat(sent).filteredOn(n -> n.event() == Event.DRIFT_DETECTED).as("a second key drifted: news, once")
        .singleElement().satisfies(n -> assertThat(n.message()).startsWith("2 resources changed outside gitops"));

    sent.clear();
    r.sync();
    r.sync();
    live.put(live.key("thing", "", "r1"), JSON.createObjectNode().put("v", 99));
    r.sync();
    assertThat(sent).filteredOn(n -> n.event() == Event.DRIFT_DETECTED).as("corrected; after a sync without drift, the"
        + " same drift again is news").extracting(Notification::message).containsExactly(
            "2 resources changed outside gitops at main@aaaaaaa, corrected",
            "1 resource changed outside gitops at main@aaaaaaa, corrected");
  }

  @Test
  void aDetectOnlySyncThatLeavesChangesPendingSaysOutOfSyncNeverSucceeded() {
    Reconciler detect = reconciler(SyncOptions.builder().detectOnly(true).build());
    want(rev('a'), 1, 2);
    detect.sync();
    assertThat(events()).containsExactly(Event.SYNC_STARTED, Event.OUT_OF_SYNC);
    Notification out = sent.get(1);
    assertThat(out.severity()).isEqualTo(Severity.WARNING);
    assertThat(out.message()).isEqualTo("out of sync with main@aaaaaaa: 2 changes pending (not applied: detect-only or dry run)");
    assertThat(out.resources()).containsExactly("CREATE " + live.key("thing", "", "r0"), "CREATE " + live.key("thing", "", "r1"));

    detect.sync();
    assertThat(events()).as("the same news is not repeated").hasSize(2);

    reconciler(SyncOptions.defaults()).sync();
    sent.clear();
    detect.sync();
    assertThat(events()).as("a detect-only sync of a target in sync").containsExactly(Event.SYNC_SUCCEEDED);
    assertThat(sent.get(0).message()).isEqualTo("in sync with main@aaaaaaa");
  }

  @Test
  void aSyncThatSkipsWhatGitDeclaresIsOutOfSyncNeverSucceeded() {
    InMemoryProvider marked = InMemoryProvider.builder().id("memory").marks(true).build();
    List<Notification> got = new CopyOnWriteArrayList<>();
    java.util.function.Function<SyncOptions, Reconciler> build = options -> Reconciler.builder()
        .source(request -> desired.get()).provider(marked).store(store).options(options)
        .listener(new NotificationListener("web", "memory", got::add)).build();
    // r1 exists live without our mark, and adoption is off: a conflict, left alone
    marked.put(marked.key("thing", "", "r1"), JSON.createObjectNode().put("v", 7));
    desired.set(State.of(rev('a'), List.of(
        Resource.of(marked.key("thing", "", "r0"), JSON.createObjectNode().put("v", 1)),
        Resource.of(marked.key("thing", "", "r1"), JSON.createObjectNode().put("v", 2)))));

    build.apply(SyncOptions.defaults()).sync();
    assertThat(got).extracting(Notification::event).containsExactly(Event.SYNC_STARTED, Event.OUT_OF_SYNC);
    Notification out = got.get(1);
    assertThat(out.message()).isEqualTo("out of sync with main@aaaaaaa: 1 resource skipped (not applied: see resources);"
        + " 1 created");
    assertThat(out.resources()).singleElement().asString().startsWith("SKIP " + marked.key("thing", "", "r1") + ": ");
    assertThat(out.counts()).containsEntry("CREATED", 1).containsEntry("SKIPPED", 1);

    got.clear();
    build.apply(SyncOptions.builder().detectOnly(true).build()).sync();
    assertThat(got).as("a detect-only sync whose only difference is a skip (a new listener: started again)")
        .extracting(Notification::event).containsExactly(Event.SYNC_STARTED, Event.OUT_OF_SYNC);
    assertThat(got.get(1).message()).isEqualTo("out of sync with main@aaaaaaa: 1 resource skipped (not applied: see"
        + " resources)");
    assertThat(got.get(1).counts()).containsEntry("SKIPPED", 1);
  }

  @Test
  void aRefusalIsAnnouncedOnceWhileItRepeatsAndAgainAfterARecovery() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want(rev('a'), 1, 2);
    r.sync();
    sent.clear();
    want(rev('b'));
    catchThrowable(r::sync);
    catchThrowable(r::sync);
    assertThat(events()).containsExactly(Event.SYNC_STARTED, Event.GUARD_REFUSED);
    assertThat(sent.get(1).revision()).isEqualTo(rev('b'));
    assertThat(sent.get(1).message()).startsWith("refused by ");
    assertThat(sent.get(1).severity()).isEqualTo(Severity.ERROR);

    want(rev('c'), 1, 2);
    r.sync();
    want(rev('b'));
    Throwable again = catchThrowable(r::sync);
    assertThat(again).isInstanceOf(PlanRefusedException.class);
    assertThat(events()).containsExactly(Event.SYNC_STARTED, Event.GUARD_REFUSED, Event.SYNC_STARTED,
        Event.SYNC_SUCCEEDED, Event.SYNC_STARTED, Event.GUARD_REFUSED);
  }

  @Test
  void anUnreadableSourceIsAFailedSync() {
    Reconciler r = reconciler(SyncOptions.defaults());
    sourceFailure.set(new SourceException("cannot reach git://example/ops"));
    catchThrowable(r::sync);
    assertThat(events()).containsExactly(Event.SYNC_FAILED);
    assertThat(sent.get(0).message()).isEqualTo("sync failed: cannot reach git://example/ops");
    assertThat(sent.get(0).revision()).isEmpty();
  }

  @Test
  void anUnobservableKeyIsAnIncompletePlanNamingIt() {
    Reconciler r = reconciler(SyncOptions.defaults());
    want(rev('a'), 1, 2);
    r.sync();
    sent.clear();
    live.makeUnobservable(live.key("thing", "", "r0"));
    want(rev('b'), 1);
    r.sync();
    assertThat(events()).containsExactly(Event.SYNC_STARTED, Event.INCOMPLETE_PLAN);
    assertThat(sent.get(1).resources()).containsExactly(live.key("thing", "", "r0").toString());
    assertThat(sent.get(1).message()).isEqualTo(
        "sync of main@bbbbbbb is incomplete: could not observe 1 thing; 1 deletion held back");
  }

  @Test
  void filtersPassByEventTargetAndSeverity() {
    Notification failed = Notification.of(Event.SYNC_FAILED, "web", "files", rev('a'), "x");
    Notification drift = Notification.of(Event.DRIFT_DETECTED, "api", "files", rev('a'), "x");
    Notification ok = Notification.of(Event.SYNC_SUCCEEDED, "web", "files", rev('a'), "x");
    NotificationFilter all = NotificationFilter.all();
    assertThat(List.of(failed, drift, ok)).allMatch(all::accepts);
    NotificationFilter warn = all.withMinimum(Severity.WARNING);
    assertThat(List.of(failed, drift, ok)).filteredOn(warn::accepts).containsExactly(failed, drift);
    NotificationFilter web = all.withTargets(java.util.Set.of("web"));
    assertThat(List.of(failed, drift, ok)).filteredOn(web::accepts).containsExactly(failed, ok);
    NotificationFilter onlyDrift = all.withEvents(java.util.Set.of(Event.DRIFT_DETECTED));
    assertThat(List.of(failed, drift, ok)).filteredOn(onlyDrift::accepts).containsExactly(drift);
    assertThat(Event.parse("guard-refused")).isEqualTo(Event.GUARD_REFUSED);
    assertThat(catchThrowable(() -> Event.parse("sync-exploded"))).hasMessageContaining("'sync-exploded'")
        .hasMessageContaining("sync-failed");
    assertThat(catchThrowable(() -> Severity.parse("loud"))).hasMessageContaining("'loud'");
  }
}

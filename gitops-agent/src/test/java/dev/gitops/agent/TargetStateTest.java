package dev.gitops.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Plan;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetStateTest {

  @TempDir
  Path stateDir;

  static SyncResult synced(String revision, List<Change> changes) {
    Plan plan = new Plan("p", revision, changes, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeSet<>());
    return new SyncResult(revision, plan, SyncResult.Status.SUCCEEDED, new TreeMap<>(), Duration.ZERO, "");
  }

  @Test
  void orphansTheSyncSkipsAreKeptForAllToSeeUntilTheyAreGone() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), Duration.ofMinutes(5));
    ResourceKey orphan = ResourceKey.of("files", "file", "", "d/f7.txt");
    ResourceKey skipped = ResourceKey.of("files", "file", "", "unobservable.txt");
    Change asOrphan = Change.builder(orphan, Action.SKIP).flags(EnumSet.of(Change.Flag.ORPHAN))
        .reason("orphan: carries our mark but is not in the inventory").build();
    Change otherSkip = Change.builder(skipped, Action.SKIP).reason("cannot be observed").build();

    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of(asOrphan, otherSkip))));
    assertThat(state.orphans()).containsExactly(orphan);
    assertThat(state.last().result()).isEqualTo("succeeded");

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of())));  // deleted by hand
    assertThat(state.orphans()).isEmpty();
  }

  @Test
  void aSyncEndingAfterTheTargetStoppedWritesNoStatus() {
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), Duration.ofMinutes(5));
    state.onEvent(new SyncEvent.Finished("v1", synced("v1", List.of())));
    state.stopped();  // stopped while a sync of v2 was still running past the grace period

    state.onEvent(new SyncEvent.Finished("v2", synced("v2", List.of())));

    assertThat(state.last().revision()).isEqualTo("v1");
    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> assertThat(s.revision()).isEqualTo("v1"));
  }
}

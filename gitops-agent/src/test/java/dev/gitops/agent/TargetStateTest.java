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
import java.time.Instant;
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

  @Test
  void aSuccessRecordedByAClockThatWasAheadDoesNotMakeARestartedTargetReady() throws Exception {
    // the clock was an hour ahead when the last success was recorded, then stepped back (NTP)
    Instant ahead = Instant.now().plus(Duration.ofHours(1));
    new TargetStatus("t", "files", "v0", "succeeded", ahead, ahead, List.of(), false, null).write(stateDir);
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), Duration.ofMinutes(5));

    state.onEvent(new SyncEvent.Aborted("v1", new IllegalStateException("the source is unreadable")));

    assertThat(state.notReady()).contains("target t has not finished a successful sync yet");
    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("error");
      assertThat(s.lastSuccess()).as("the recorded success is kept").isEqualTo(ahead);
    });
  }

  @Test
  void aRestartedTargetWhoseSourceIsUnreachableKeepsTheRevisionItRecorded() throws Exception {
    Instant before = Instant.parse("2026-11-30T10:00:00Z");
    new TargetStatus("t", "files", "main@sha1:3f2a", "succeeded", before, before, List.of(), false, null)
        .write(stateDir);
    TargetState state = new TargetState("t", "files", stateDir, Clock.systemUTC(), Duration.ofMinutes(5));

    state.onEvent(new SyncEvent.Aborted("", new IllegalStateException("git: connection refused")));

    assertThat(TargetStatus.read(stateDir, "t")).hasValueSatisfying(s -> {
      assertThat(s.result()).isEqualTo("error");
      assertThat(s.revision()).as("what is live is still known").isEqualTo("main@sha1:3f2a");
      assertThat(s.lastSuccess()).isEqualTo(before);
      assertThat(s.lastError()).isEqualTo("git: connection refused");
    });
  }

  @Test
  void anUnreadableStatusFileIsNamedWithWhereAndWhatIsWrong() throws Exception {
    Path f = TargetStatus.file(stateDir, "t");
    java.nio.file.Files.createDirectories(f.getParent());
    java.nio.file.Files.writeString(f, "{\"target\": \"t\",\n \"result\": \"succ");  // cut short
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageStartingWith("java.io.IOException: cannot read the status file " + f + ": line 2, column ")
        .hasMessageNotContaining("\n");
    java.nio.file.Files.writeString(f, "");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageEndingWith("cannot read the status file " + f + ": not a JSON object (the file is empty)");
    java.nio.file.Files.writeString(f, "{\"target\": \"t\", \"finished\": \"yesterday\"}");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TargetStatus.read(stateDir, "t")))
        .hasMessageEndingWith("cannot read the status file " + f
            + ": finished: want a time such as 2026-11-30T10:00:00Z, got \"yesterday\"");
  }
}

package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncResult;
import dev.gitops.core.store.FileStateStore.JournalPoint;
import dev.gitops.core.store.LegacyStores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a syncing child JVM at every occurrence of every named write point of the store —
 * before an append, with half a record written (a torn tail), after the append before its fsync,
 * after the fsync; at the start of compaction, with the new snapshot written but not renamed,
 * renamed with the journal still there, once the journal is gone, at the meta.json write that
 * follows; and, from step 2 on with the store rewritten as format 1 (per-key files) first, at
 * every point of the migration (started, snapshot points, format switched, per-key files
 * removed) — and, after each torn append, kills the recovery again where it cuts the torn tail.
 * The children compact at every release, so each step passes the compaction's points. Batches are
 * real here: the local-files provider's own batches at parallelism 4, so a pending record and an
 * applied record carry several keys. After every kill the store loads with no orphan in the
 * target, and a recovery sync converges to the desired state with nothing pending.
 */
class JournalKillPointsTest {

  @TempDir
  Path tmp;

  /** One kill: the {@code n}th of {@code of} occurrences of write point {@code point}, on a format-1 store if {@code legacy}. */
  private record Kill(String point, int n, int of, boolean legacy) {}

  @Test
  void everyJournalWritePointRecoversToTheDesiredState() throws Exception {
    List<String> points = new ArrayList<>();
    for (JournalPoint p : JournalPoint.values()) {
      if (p != JournalPoint.TAIL_TRUNCATED) {
        points.add(p.name());
      }
    }
    points.add(CrashChild.COMPACTION_WRITE);
    Set<String> migration = Set.of(JournalPoint.MIGRATION_STARTED.name(), JournalPoint.FORMAT_SWITCHED.name(),
        JournalPoint.MIGRATED.name());
    // the kills of a step run on two threads (KillPoints)
    Map<String, Integer> killed = new ConcurrentHashMap<>();
    Path base = tmp.resolve("base");
    Path work = tmp.resolve("work");
    CrashWorld.writeTree(base, CrashSafetyTest.UNMANAGED);
    for (int step = 0; step < CrashSafetyTest.STEPS.size(); step++) {
      String revision = "rev-" + (step + 1);
      Path desiredDir = tmp.resolve("desired-" + (step + 1));
      Map<String, String> want = CrashSafetyTest.STEPS.get(step);
      CrashWorld.writeTree(desiredDir, want);
      // every kill of the step, counted first (in this JVM), then run two at a time
      List<Kill> kills = new ArrayList<>();
      for (String point : points) {
        // from step 2 on (a store exists) the points of compaction and migration run on the store
        // rewritten as format 1, so each is passed by the migration at the lock and by the compaction
        // at the release; the append points run on the snapshot the previous step left
        boolean legacy = step > 0 && !point.startsWith("APPEND") && !point.equals(JournalPoint.SYNCED.name());
        if (migration.contains(point) && !legacy) {
          continue;
        }
        CrashWorld.copyTree(base, work);
        if (legacy) {
          LegacyStores.downgrade(work.resolve(CrashWorld.STORE));
        }
        CrashChild.KillSwitch counter = new CrashChild.KillSwitch(0);
        SyncResult clean = CrashChild.syncCountingPoint(desiredDir, work, revision, counter, point);
        assertThat(clean.isSuccessful()).isTrue();
        for (int n = 1; n <= counter.events(); n++) {
          kills.add(new Kill(point, n, counter.events(), legacy));
        }
      }
      int stepIndex = step;
      KillPoints.run(tmp, "work-" + (step + 1), kills.size(), (i, kw) -> {
        Kill k = kills.get(i - 1);
        CrashWorld.copyTree(base, kw);
        if (k.legacy()) {
          LegacyStores.downgrade(kw.resolve(CrashWorld.STORE));
        }
        String where = "step " + (stepIndex + 1) + ", killed at " + k.point() + " #" + k.n() + " of " + k.of();
        ChildJvm.Result r = ChildJvm.run(tmp.resolve("logs"), CrashChild.class, desiredDir.toString(),
            kw.toString(), revision, Integer.toString(k.n()), k.point());
        assertThat(r.killed()).as("%s: %s", where, r.out()).isTrue();
        killed.merge(k.point(), 1, Integer::sum);
        if (k.point().equals(JournalPoint.APPEND_HALF_WRITTEN.name())) {
          // the next lock cuts the torn tail first: kill the recovery right there too (before the
          // checks below, whose own lock would repair the journal)
          ChildJvm.Result again = ChildJvm.run(tmp.resolve("logs"), CrashChild.class, desiredDir.toString(),
              kw.toString(), revision, "1", JournalPoint.TAIL_TRUNCATED.name());
          assertThat(again.killed()).as("%s, then at TAIL_TRUNCATED: %s", where, again.out()).isTrue();
          killed.merge(JournalPoint.TAIL_TRUNCATED.name(), 1, Integer::sum);
          CrashSafetyTest.checkAfterCrash(kw, where + ", then at TAIL_TRUNCATED");
        } else {
          CrashSafetyTest.checkAfterCrash(kw, where);
        }
        CrashSafetyTest.recoversTo(kw, desiredDir, revision, want, where);
      });
      CrashSafetyTest.convergeBase(base, work, desiredDir, revision, want);
    }
    System.out.printf("journal kill points: %s (%d in all)%n", new TreeMap<>(killed),
        killed.values().stream().mapToInt(Integer::intValue).sum());
    for (JournalPoint p : JournalPoint.values()) {
      assertThat(killed.getOrDefault(p.name(), 0)).as("kills at %s", p).isPositive();
    }
    assertThat(killed.getOrDefault(CrashChild.COMPACTION_WRITE, 0)).isGreaterThanOrEqualTo(CrashSafetyTest.STEPS.size());
  }
}

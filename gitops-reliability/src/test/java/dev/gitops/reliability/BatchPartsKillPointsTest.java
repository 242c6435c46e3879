package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.SyncResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a syncing child JVM at every event of a sync whose provider takes its batches in parts
 * ({@code Provider.batchLimit}, here two changes a part, as the files provider takes 1,000): before
 * and after each part's call, and before and after every durable store write — so kills fall
 * between two parts, after one part's files are written and before the next part's pending
 * records, and while a later part's pending records are written as an earlier part's outcomes are
 * recorded. After every kill the store loads with no orphan in the target, and a recovery sync
 * converges to the desired state with nothing pending: each part's pending records precede its
 * writes, whatever part the process died in.
 */
class BatchPartsKillPointsTest {

  @TempDir
  Path tmp;

  @Test
  void everyKillBetweenAndWithinBatchPartsRecoversToTheDesiredState() throws Exception {
    AtomicInteger kills = new AtomicInteger();
    Path base = tmp.resolve("base");
    Path work = tmp.resolve("work");
    CrashWorld.writeTree(base, CrashSafetyTest.UNMANAGED);
    int partsSeen = 0;
    for (int step = 0; step < CrashSafetyTest.STEPS.size(); step++) {
      String revision = "rev-" + (step + 1);
      Path desiredDir = tmp.resolve("desired-" + (step + 1));
      Map<String, String> want = CrashSafetyTest.STEPS.get(step);
      CrashWorld.writeTree(desiredDir, want);

      // an uninterrupted run counts the step's events and shows its parts
      CrashWorld.copyTree(base, work);
      CrashChild.KillSwitch counter = new CrashChild.KillSwitch(0);
      List<Integer> parts = new ArrayList<>();
      SyncResult clean = CrashChild.syncInParts(desiredDir, work, revision, counter, parts);
      assertThat(clean.isSuccessful()).as("step %d: %s", step + 1, clean.failures()).isTrue();
      assertThat(parts).as("step %d's parts", step + 1).allSatisfy(n -> assertThat(n).isBetween(1, CrashChild.PART));
      partsSeen += parts.size();
      int events = counter.events();

      int stepIndex = step;
      KillPoints.run(tmp, "parts-" + (step + 1), events, (n, kw) -> {
        CrashWorld.copyTree(base, kw);
        String where = "step " + (stepIndex + 1) + " in parts of " + CrashChild.PART + ", killed at event " + n
            + " of " + events;
        ChildJvm.Result r = ChildJvm.run(tmp.resolve("logs"), CrashChild.class, desiredDir.toString(), kw.toString(),
            revision, Integer.toString(n), CrashChild.PARTS);
        assertThat(r.killed()).as("%s: %s", where, r.out()).isTrue();
        kills.incrementAndGet();
        CrashSafetyTest.checkAfterCrash(kw, where);
        CrashSafetyTest.recoversTo(kw, desiredDir, revision, want, where);
      });
      CrashSafetyTest.convergeBase(base, work, desiredDir, revision, want);
    }
    System.out.printf("batch-part kill points: %d (parts of %d, %d parts in the uninterrupted runs)%n", kills.get(),
        CrashChild.PART, partsSeen);
    // the first step alone creates six files: three parts at least, so kills fall between parts
    assertThat(partsSeen).isGreaterThanOrEqualTo(3 + CrashSafetyTest.STEPS.size() - 1);
    assertThat(kills.get()).isGreaterThanOrEqualTo(partsSeen * 2);
  }
}

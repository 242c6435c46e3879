package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gitops.api.Plan;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.StoredState;
import dev.gitops.core.Reconciler;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.FileStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a syncing child JVM with SIGKILL at every counted event (provider apply calls, durable
 * store writes) of three steps — create, then update/delete/create, then delete/create — and
 * checks after each kill and after the recovery sync: the store loads, every file in the target
 * is ours (inventory or pending) or an untouched unmanaged file, and the recovery converges to
 * the desired state. Every fourth kill point also tries the plan reviewed before the crash: it
 * is refused ({@link PlanMismatchException}, nothing changed) or still valid and applied whole.
 * Every fifth kill point crashes the recovery too, before the final recovery.
 */
class CrashSafetyTest {

  /** Files that are not ours; they must survive every crash byte for byte. */
  static final Map<String, String> UNMANAGED = Map.of(
      "notes.txt", "hand-written notes\n",
      "conf/local.txt", "local override, not in Git\n",
      "unmanaged/keep.bin", "\u0000\u0001binary\n");

  static final List<Map<String, String>> STEPS = List.of(
      Map.of("a.txt", "alpha 1\n", "b.txt", "bravo 1\n", "c.txt", "charlie 1\n",
          "conf/app.json", "{\"name\": \"app\", \"replicas\": 1, \"tags\": [\"x\"]}",
          "conf/db.txt", "db 1\n", "deep/x/y.txt", "deep 1\n"),
      Map.of("a.txt", "alpha 2\n",
          "conf/app.json", "{\"name\": \"app\", \"replicas\": 3, \"tags\": [\"x\", \"y\"]}",
          "conf/db.txt", "db 1\n", "deep/x/y.txt", "deep 2\n", "d.txt", "delta 2\n", "e.txt", "echo 2\n"),
      Map.of("conf/db.txt", "db 1\n", "e.txt", "echo 3\n", "f.txt", "foxtrot 3\n"));

  @TempDir
  Path tmp;

  // the kill points of a step run on two threads (KillPoints)
  private final AtomicInteger killPoints = new AtomicInteger();
  private final AtomicInteger doubleCrashes = new AtomicInteger();
  private final AtomicInteger plansRefused = new AtomicInteger();
  private final AtomicInteger plansApplied = new AtomicInteger();

  @Test
  void everyKillPointRecoversToTheDesiredStateWithoutOrphansOrCorruption() throws Exception {
    Path base = tmp.resolve("base");
    Path work = tmp.resolve("work");
    CrashWorld.writeTree(base, UNMANAGED);
    for (int step = 0; step < STEPS.size(); step++) {
      String revision = "rev-" + (step + 1);
      Path desiredDir = tmp.resolve("desired-" + (step + 1));
      CrashWorld.writeTree(desiredDir, STEPS.get(step));

      // how many events an uninterrupted run of this step has
      CrashWorld.copyTree(base, work);
      CrashChild.KillSwitch counter = new CrashChild.KillSwitch(0);
      assertThat(CrashChild.sync(desiredDir, work, revision, counter).isSuccessful()).isTrue();
      int events = counter.events();
      assertThat(events).as("events of step %d", step + 1).isGreaterThan(10);

      int stepIndex = step;
      KillPoints.run(tmp, "work-" + (step + 1), events, (n, kw) -> {
        CrashWorld.copyTree(base, kw);
        String reviewed = n % 4 == 0 ? PlanCodec.toJson(reconciler(kw, desiredDir, revision).plan(), secret(kw)) : null;
        ChildJvm.Result r = ChildJvm.run(tmp.resolve("logs"), CrashChild.class,
            desiredDir.toString(), kw.toString(), revision, Integer.toString(n));
        assertThat(r.killed()).as("child killed at event %d of %d (step %d): %s", n, events, stepIndex + 1, r.out())
            .isTrue();
        killPoints.incrementAndGet();
        String where = "step " + (stepIndex + 1) + ", killed at event " + n + " of " + events;
        checkAfterCrash(kw, where);

        if (reviewed != null) {
          tryReviewedPlan(kw, desiredDir, revision, reviewed, where);
        } else if (n % 5 == 0) {
          int second = Math.max(1, (n * 7) % events);
          ChildJvm.Result again = ChildJvm.run(tmp.resolve("logs"), CrashChild.class,
              desiredDir.toString(), kw.toString(), revision, Integer.toString(second));
          if (again.killed()) {
            doubleCrashes.incrementAndGet();
            killPoints.incrementAndGet();
          } else {
            assertThat(again.exit()).as("recovery child: %s", again.out()).isZero();
          }
          checkAfterCrash(kw, where + ", then again at event " + second + " of the recovery");
        }

        recoversTo(kw, desiredDir, revision, STEPS.get(stepIndex), where);
      });
      // the next step starts from this step's converged state
      convergeBase(base, work, desiredDir, revision, STEPS.get(step));
    }
    System.out.printf("crash suite: %d kill points (%d during recovery), reviewed plans refused %d, applied %d%n",
        killPoints.get(), doubleCrashes.get(), plansRefused.get(), plansApplied.get());
    assertThat(killPoints.get()).isGreaterThanOrEqualTo(200);
  }

  static Reconciler reconciler(Path target, Path desiredDir, String revision) {
    LocalFilesProvider files = CrashWorld.files(target);
    State desired = CrashWorld.desired(desiredDir, files, revision);
    return CrashWorld.reconciler(target, files, desired, FileStateStore.Options.defaults().withHistoryLimit(5));
  }

  private static byte[] secret(Path target) {
    try (FileStateStore s = FileStateStore.open(target.resolve(CrashWorld.STORE))) {
      return s.secretKey();
    }
  }

  static StoredState load(Path target, String where) {
    try (FileStateStore s = FileStateStore.open(target.resolve(CrashWorld.STORE));
         var lock = s.lock(java.time.Duration.ofSeconds(10))) {
      return s.load();
    } catch (RuntimeException e) {
      throw new AssertionError("the store does not load after " + where + ": " + e, e);
    }
  }

  /** The store loads; unmanaged files are intact; every other file in the target is owned. */
  static void checkAfterCrash(Path target, String where) {
    StoredState stored = load(target, where);
    TreeMap<String, byte[]> live = CrashWorld.read(target);
    checkUnmanaged(live, where);
    TreeSet<String> owned = new TreeSet<>();
    stored.inventory().keySet().forEach(k -> owned.add(k.name()));
    stored.pending().keySet().forEach(k -> owned.add(k.name()));
    for (String f : live.keySet()) {
      if (!UNMANAGED.containsKey(f) && !owned.contains(f)) {
        fail("after %s the target holds %s, which is neither unmanaged nor in the inventory or pending (an orphan);"
            + " owned: %s", where, f, owned);
      }
    }
  }

  static void checkUnmanaged(Map<String, byte[]> live, String where) {
    for (Map.Entry<String, String> e : UNMANAGED.entrySet()) {
      assertThat(live.get(e.getKey())).as("unmanaged %s after %s", e.getKey(), where)
          .isEqualTo(e.getValue().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A recovery sync after {@code where}: it succeeds, and the target converges to {@code want} ({@link #checkConverged}). */
  static void recoversTo(Path target, Path desiredDir, String revision, Map<String, String> want, String where) {
    SyncResult recovered = reconciler(target, desiredDir, revision).sync();
    assertThat(recovered.isSuccessful()).as("recovery after %s: %s", where, recovered.failures()).isTrue();
    checkConverged(target, want, where);
  }

  /** Ends a step: {@code base} becomes the step's converged state (synced uninterrupted in {@code work}). */
  static void convergeBase(Path base, Path work, Path desiredDir, String revision, Map<String, String> want) {
    CrashWorld.copyTree(base, work);
    assertThat(reconciler(work, desiredDir, revision).sync().isSuccessful()).isTrue();
    checkConverged(work, want, revision + " synced uninterrupted");
    CrashWorld.copyTree(work, base);
  }

  /** The target is exactly desired plus unmanaged, the inventory holds exactly the desired keys, nothing pending. */
  static void checkConverged(Path target, Map<String, String> desired, String where) {
    TreeMap<String, byte[]> live = CrashWorld.read(target);
    checkUnmanaged(live, where);
    Map<String, String> managedLive = new TreeMap<>();
    live.forEach((k, v) -> {
      if (!UNMANAGED.containsKey(k)) {
        managedLive.put(k, new String(v, StandardCharsets.UTF_8));
      }
    });
    assertThat(managedLive.keySet()).as("files after recovery from %s", where).isEqualTo(new TreeSet<>(desired.keySet()));
    for (Map.Entry<String, String> e : desired.entrySet()) {
      if (e.getKey().endsWith(".json")) {
        assertThat(managedLive.get(e.getKey()).replaceAll("\\s", "")).as("%s after %s", e.getKey(), where)
            .isEqualTo(e.getValue().replaceAll("\\s", ""));
      } else {
        assertThat(managedLive.get(e.getKey())).as("%s after %s", e.getKey(), where).isEqualTo(e.getValue());
      }
    }
    StoredState stored = load(target, where);
    TreeSet<String> inventory = new TreeSet<>();
    stored.inventory().keySet().forEach(k -> inventory.add(k.name()));
    assertThat(inventory).as("inventory after recovery from %s", where).isEqualTo(new TreeSet<>(desired.keySet()));
    assertThat(stored.pending()).as("pending after recovery from %s", where).isEmpty();
  }

  /** A plan reviewed before the crash: refused with nothing changed, or still valid and applied whole. */
  private void tryReviewedPlan(Path target, Path desiredDir, String revision, String planJson, String where) {
    TreeMap<String, byte[]> before = CrashWorld.read(target);
    Plan reviewed = PlanCodec.fromJson(planJson);
    try {
      SyncResult r = reconciler(target, desiredDir, revision).apply(reviewed);
      assertThat(r.isSuccessful()).as("reviewed plan after %s: %s", where, r.failures()).isTrue();
      plansApplied.incrementAndGet();
      Map<String, String> desired = STEPS.get(Integer.parseInt(revision.substring(4)) - 1);
      checkConverged(target, desired, where + ", reviewed plan applied");
    } catch (PlanMismatchException e) {
      plansRefused.incrementAndGet();
      TreeMap<String, byte[]> after = CrashWorld.read(target);
      assertThat(after.keySet()).as("refused plan changed nothing after %s", where).isEqualTo(before.keySet());
      after.forEach((k, v) -> assertThat(Arrays.equals(v, before.get(k))).as("refused plan left %s alone", k).isTrue());
      checkAfterCrash(target, where + ", reviewed plan refused");
    }
  }

}

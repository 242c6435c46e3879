package dev.gitops.reliability;

import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.ForwardingProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of the crash tests: syncs a desired directory into a target and, at its n-th
 * event (an apply call of the provider, before or after, or a durable store write, before or
 * after the rename), kills itself with a real SIGKILL.
 *
 * <p>Usage: {@code CrashChild <desiredDir> <target> <revision> <killAt> [<point> | PARTS]}; {@code
 * killAt} 0 runs to the end. Prints {@code events=<n> status=<status>} and exits 0 when not killed.
 */
public final class CrashChild {

  /** The exit status of a process killed by SIGKILL, as reported by a parent JVM. */
  static final int SIGKILL_EXIT = 128 + 9;

  private CrashChild() {}

  /** Counts events and kills the process at the n-th one (never when n is 0). */
  static final class KillSwitch {
    private final int killAt;
    private int events;

    KillSwitch(int killAt) {
      this.killAt = killAt;
    }

    synchronized void event() {
      events++;
      if (events == killAt) {
        killSelf();
      }
    }

    synchronized int events() {
      return events;
    }
  }

  /** The children's store: compacting at every release, each durable write (before and after) an event on {@code ks}. */
  private static FileStateStore.Options countingWrites(KillSwitch ks) {
    return FileStateStore.Options.defaults().withHistoryLimit(5).withCompactionBytes(0)
        .withWriteListener((file, after) -> ks.event());
  }

  /** Runs one sync of {@code desiredDir} into {@code target}, counting events on {@code ks}. */
  static SyncResult sync(Path desiredDir, Path target, String revision, KillSwitch ks) {
    CountingProvider provider = new CountingProvider(CrashWorld.files(target), (c, after) -> ks.event());
    State desired = CrashWorld.desired(desiredDir, provider, revision);
    FileStateStore.Options storeOptions = countingWrites(ks);
    Reconciler r = CrashWorld.reconciler(target, provider, desired, storeOptions);
    return r.sync();
  }

  /** The point argument that runs {@link #syncInParts} instead of counting one store point. */
  static final String PARTS = "PARTS";
  /** The batch limit {@link #syncInParts} gives the files provider: parts of two changes. */
  static final int PART = 2;

  /**
   * Runs one sync with the files provider's own batches taken in parts of {@value #PART} (its
   * {@code batchLimit}), counting each part's call before and after it and every durable store
   * write, so that kill points fall between the parts: after one part's writes, before the next
   * part's pending records. The size of each part sent is added to {@code parts} when it is not null.
   */
  static SyncResult syncInParts(Path desiredDir, Path target, String revision, KillSwitch ks,
      List<Integer> parts) {
    Provider inParts = new ForwardingProvider(CrashWorld.files(target)) {
      @Override
      public int batchLimit() {
        return PART;
      }

      @Override
      public Map<ResourceKey, Outcome> applyAll(
          List<Change> changes, CallContext ctx) {
        if (parts != null) {
          parts.add(changes.size());
        }
        ks.event();
        Map<ResourceKey, Outcome> out = super.applyAll(changes, ctx);
        ks.event();
        return out;
      }
    };
    State desired = CrashWorld.desired(desiredDir, inParts, revision);
    FileStateStore.Options storeOptions = countingWrites(ks);
    return CrashWorld.reconciler(target, inParts, desired, storeOptions).sync();
  }

  /** What {@link #syncCountingPoint} counts besides the named points: a file write once compaction started (meta.json). */
  static final String COMPACTION_WRITE = "COMPACTION_WRITE";

  /**
   * Runs one sync with the files provider's own batches (parallelism 4), counting only the store's
   * {@code point}: a {@link FileStateStore.JournalPoint} name, or {@link #COMPACTION_WRITE} for
   * each file write (before its rename or delete) once compaction has started.
   */
  static SyncResult syncCountingPoint(Path desiredDir, Path target, String revision, KillSwitch ks, String point) {
    LocalFilesProvider files = CrashWorld.files(target);
    State desired = CrashWorld.desired(desiredDir, files, revision);
    boolean[] compacting = {false};
    FileStateStore.WriteListener listener = new FileStateStore.WriteListener() {
      @Override
      public void onWrite(Path file, boolean after) {
        if (!after && compacting[0] && point.equals(COMPACTION_WRITE)) {
          ks.event();
        }
      }

      @Override
      public void onJournal(FileStateStore.JournalPoint p, Path journal) {
        compacting[0] |= p == FileStateStore.JournalPoint.COMPACTION_STARTED;
        if (p.name().equals(point)) {
          ks.event();
        }
      }
    };
    SyncOptions options = CrashWorld.options().toBuilder()
        .execution(CrashWorld.options().execution().withParallelism(4)).build();
    Reconciler r = Reconciler.builder().desiredState(desired).provider(files)
        .store(FileStateStore.open(target.resolve(CrashWorld.STORE),
            FileStateStore.Options.defaults().withHistoryLimit(5).withCompactionBytes(0).withWriteListener(listener)))
        .options(options).build();
    return r.sync();
  }

  /**
   * Entry point of the child JVM: {@code <desiredDir> <target> <revision> <killAt> [<point>]};
   * with a point, only that store write point is counted (see {@link #syncCountingPoint}).
   */
  public static void main(String[] args) {
    KillSwitch ks = new KillSwitch(Integer.parseInt(args[3]));
    SyncResult r = args.length > 4 && args[4].equals(PARTS)
        ? syncInParts(Path.of(args[0]), Path.of(args[1]), args[2], ks, null)
        : args.length > 4 ? syncCountingPoint(Path.of(args[0]), Path.of(args[1]), args[2], ks, args[4])
        : sync(Path.of(args[0]), Path.of(args[1]), args[2], ks);
    System.out.println("events=" + ks.events() + " status=" + r.status());
    System.out.flush();
    System.exit(0);
  }

  /** SIGKILL to this very process: no shutdown hooks, no finally blocks, no flushing. */
  private static void killSelf() {
    long pid = ProcessHandle.current().pid();
    try {
      new ProcessBuilder("kill", "-KILL", Long.toString(pid)).inheritIO().start().waitFor();
      // the signal is asynchronous: block until it lands
      TimeUnit.SECONDS.sleep(60);
    } catch (IOException | InterruptedException e) {
      Runtime.getRuntime().halt(99);
    }
    Runtime.getRuntime().halt(98);
  }
}

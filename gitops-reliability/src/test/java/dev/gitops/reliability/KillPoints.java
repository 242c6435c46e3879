package dev.gitops.reliability;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs the kill points of one step on two threads. Each point is independent of the others: it
 * gets a target of its own ({@code <label>-<n>} under the test's temp directory, copied by the
 * point itself and deleted once it passed), and is mostly a child JVM's start and sync, one core's
 * work, so a 2-core machine ran the suite's few hundred points at half its speed one at a time. A
 * failure is thrown as it was raised, the first in point order; the points not started yet are
 * cancelled.
 */
final class KillPoints {

  /** One kill point: {@code n} (1-based) run against {@code work}, a directory of its own. */
  interface Point {
    void run(int n, Path work) throws Exception;
  }

  /** How many points run at once: two, or one on a single core. */
  static final int LANES = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));

  private KillPoints() {}

  /** Runs points 1 to {@code count} of {@code point}, their targets under {@code tmp} named after {@code label}. */
  static void run(Path tmp, String label, int count, Point point) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(LANES);
    try {
      List<Future<?>> started = new ArrayList<>();
      for (int n = 1; n <= count; n++) {
        int at = n;
        started.add(pool.submit(() -> {
          Path work = tmp.resolve(label + "-" + at);
          point.run(at, work);
          // kept when the point failed, for a look at what it left
          CrashWorld.deleteTree(work);
          return null;
        }));
      }
      for (Future<?> f : started) {
        try {
          f.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception cause) {
            throw cause;
          }
          if (e.getCause() instanceof Error cause) {
            throw cause;
          }
          throw e;
        }
      }
    } finally {
      pool.shutdownNow();
      if (!pool.awaitTermination(3, TimeUnit.MINUTES)) {
        throw new AssertionError("kill points of " + label + " still running 3 minutes after the step ended");
      }
    }
  }
}

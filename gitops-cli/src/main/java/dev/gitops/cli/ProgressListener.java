package dev.gitops.cli;

import dev.gitops.api.Outcome;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.source.GitSource;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints a sync as it happens: the source read, the plan (when it changes anything), and then
 * either one plain line per finished change with a running count ({@code [2/3] updated
 * files:file::app.properties}) when the output is not a terminal, or on a terminal one live line
 * rewritten in place with the counts per dependency layer ({@code layer 1: 3/3 done | layer 2:
 * 1/4}); failures always get a line of their own.
 *
 * <p>Everything is printed on a thread of its own ({@code gitops-output}), in the order of the
 * events, while the sync goes on: the plan's change text (12 MB for a first sync of 10,000 files)
 * is rendered and printed there while the plan is recorded and applied, and the lines of the
 * changes finished meanwhile follow it, so the output is the same text in the same order as when
 * it was printed in place, and the sync never waits for the terminal (until {@value #QUEUED}
 * events wait to be printed). A command calls {@link #awaitOutput} before it prints its own lines.
 */
final class ProgressListener implements SyncListener {

  private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);

  /** The most events waiting to be printed; the next one waits for room. */
  static final int QUEUED = 65_536;

  private final PrintWriter out;
  /** What the output thread prints next, in order; {@link #STOP} ends the thread. */
  private final java.util.concurrent.BlockingQueue<Runnable> queue =
      new java.util.concurrent.LinkedBlockingQueue<>(QUEUED);
  /** The output thread; null until the first event, and after {@link #awaitOutput} stopped it. Guarded by this. */
  private Thread printer;
  /** What failed to print (the plan text, a line), if anything did; thrown by the next event or {@link #awaitOutput}. */
  private final java.util.concurrent.atomic.AtomicReference<RuntimeException> printFailure =
      new java.util.concurrent.atomic.AtomicReference<>();
  private static final Runnable STOP = () -> { };
  private final boolean live;
  // from here to rewriteReason: the output thread's alone
  private int total;
  private int done;
  private final java.util.Map<dev.gitops.api.ResourceKey, Integer> layerOf = new java.util.HashMap<>();
  private int[] layerTotal = new int[0];
  private int[] layerDone = new int[0];
  private boolean liveLineShown;
  /** What the source's last read warned about; none until {@link #showReadWarnings}. */
  private Supplier<java.util.List<String>> readWarnings = java.util.List::of;
  /** The source's own words for why its last read was flagged history rewritten; empty until {@link #explainRewrites}. */
  private volatile Supplier<Optional<String>> rewriteReason = Optional::empty;
  /** Whether events are no longer shown ({@link #mute}). */
  private volatile boolean muted;

  ProgressListener(PrintWriter out) {
    this(out, System.console() != null && !"dumb".equals(System.getenv("TERM")));
  }

  ProgressListener(PrintWriter out, boolean live) {
    this.out = out;
    this.live = live;
  }

  /**
   * Takes the reason a read was flagged history rewritten from {@code reason}, the source's {@link
   * GitSource#historyRewrittenReason()}: a rollback to an older commit, a semver range falling to a
   * lower tag, a name that now reads a tag instead of a branch, or a force push, worded as the
   * source's warning words it.
   */
  void explainRewrites(Supplier<Optional<String>> reason) {
    this.rewriteReason = java.util.Objects.requireNonNull(reason, "reason");
  }

  /** Takes what a read warned about ({@link GitSource#readWarnings()}), shown after its "Read" line. */
  void showReadWarnings(Supplier<java.util.List<String>> warnings) {
    this.readWarnings = java.util.Objects.requireNonNull(warnings, "warnings");
  }

  /**
   * What the warning for a read of {@code revision} flagged history rewritten says: the source's
   * reason when it gave one for this revision, else that the revision does not descend from the last
   * one read.
   */
  String whyRewritten(String revision) {
    return rewriteReason.get().filter(why -> why.contains(revision)).map(PlanRenderer::oneLine)
        .orElseGet(() -> "history was rewritten: " + PlanRenderer.shortRevision(revision)
            + " does not descend from the last revision read");
  }

  /** Layer of each mutating change: 0 without dependencies among the plan's changes, else 1 + its deepest dependency's. */
  private void computeLayers(dev.gitops.api.Plan plan) {
    layerOf.clear();
    int max = -1;
    for (dev.gitops.api.Change c : plan.changes()) {
      int layer = 0;
      for (dev.gitops.api.ResourceKey dep : plan.dependencies().getOrDefault(c.key(), new java.util.TreeSet<>())) {
        Integer d = layerOf.get(dep);
        if (d != null) {
          layer = Math.max(layer, d + 1);
        }
      }
      layerOf.put(c.key(), layer);
      if (counted(c.action())) {
        max = Math.max(max, layer);
      }
    }
    layerTotal = new int[max + 1];
    layerDone = new int[max + 1];
    for (dev.gitops.api.Change c : plan.changes()) {
      if (counted(c.action())) {
        layerTotal[layerOf.get(c.key())]++;
      }
    }
  }

  private void drawLiveLine() {
    StringBuilder sb = new StringBuilder("\r\033[2K");
    for (int i = 0; i < layerTotal.length; i++) {
      if (layerTotal[i] == 0) {
        continue;
      }
      if (sb.length() > 6) {
        sb.append(" | ");
      }
      sb.append("layer ").append(i + 1).append(": ").append(layerDone[i]).append('/').append(layerTotal[i])
          .append(layerDone[i] == layerTotal[i] ? " done" : "");
    }
    out.print(sb);
    liveLineShown = true;
  }

  private void endLiveLine() {
    if (liveLineShown) {
      out.println();
      liveLineShown = false;
    }
  }

  /**
   * Waits until everything the events so far show is printed, so that what is printed next follows
   * it, and stops the output thread (the next event starts another). A failure to print is
   * logged, as the reconciler logs a listener's failure, and does not fail the command.
   */
  synchronized void awaitOutput() {
    if (printer != null) {
      enqueue(STOP);
      boolean interrupted = false;
      while (printer.isAlive()) {
        try {
          printer.join();
        } catch (InterruptedException e) {
          // the output is printed all the same (a few seconds at most); the caller keeps its interrupt
          interrupted = true;
        }
      }
      printer = null;
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    RuntimeException failure = takeFailure();
    if (failure != null) {
      LOG.warn("the sync's output could not be printed: {}", failure.toString());
    }
  }

  private RuntimeException takeFailure() {
    return printFailure.getAndSet(null);
  }

  /** Hands {@code print} to the output thread, started when none runs; waits while {@link #QUEUED} wait. */
  private void enqueue(Runnable print) {
    if (printer == null) {
      Thread t = new Thread(this::printAll, "gitops-output");
      t.setDaemon(true);
      printer = t;
      t.start();
    }
    boolean interrupted = false;
    while (true) {
      try {
        queue.put(print);
        break;
      } catch (InterruptedException e) {
        interrupted = true;  // the line is queued all the same: the output stays whole
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The output thread: prints what is queued, in order, until {@link #STOP}. */
  private void printAll() {
    while (true) {
      Runnable next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        // nothing interrupts this thread but the JVM's end; what is queued is not printed then
        LOG.debug("the output thread was interrupted; {} events not printed", queue.size());
        return;
      }
      if (next == STOP) {
        return;
      }
      try {
        next.run();
      } catch (RuntimeException | Error e) {
        // handed to the caller of the next event or of awaitOutput, which reports it; later lines still
        // print (an error too: a thread ended by one would leave what is queued unprinted)
        printFailure.compareAndSet(null,
            e instanceof RuntimeException r ? r : new IllegalStateException(e.toString(), e));
      }
    }
  }

  /** Prints the plan's change text and summary (on the output thread). */
  private void printPlanText(dev.gitops.api.Plan plan) {
    PlanRenderer.appendChanges(plan, out);
    out.println("Plan: " + plan.summary());
    out.flush();
  }

  /**
   * Prints what {@code event} shows, on the output thread, after what earlier events show; a
   * failure to print an earlier event, or this one when the output thread has failed on it
   * already, is thrown here, once (the reconciler logs a listener's failure).
   */
  @Override
  public synchronized void onEvent(SyncEvent event) {
    if (muted) {
      return;
    }
    enqueue(() -> print(event));
    RuntimeException failed = takeFailure();
    if (failed != null) {
      throw failed;
    }
  }

  /**
   * Shows no event from now on: for a command that asks the reconciler something after its report
   * (the head a rollback left behind), whose plan is not the command's output.
   */
  void mute() {
    muted = true;
  }

  private void print(SyncEvent event) {
    if (event instanceof SyncEvent.SourceRead r) {
      out.println("Read " + PlanRenderer.shortRevision(r.revision()) + ": " + r.resources() + " resource"
          + (r.resources() == 1 ? "" : "s") + (r.skipped() ? " (commit unchanged since the last read)" : ""));
      if (r.historyRewritten()) {
        out.println("warning: " + whyRewritten(r.revision()));
      }
      readWarnings.get().forEach(w -> out.println("warning: " + PlanRenderer.oneLine(w)));
    } else if (event instanceof SyncEvent.Planned p) {
      total = (int) p.plan().changes().stream().filter(c -> counted(c.action())).count();
      done = 0;
      computeLayers(p.plan());
      if (p.plan().hasChanges() || !p.plan().changes(dev.gitops.api.Action.SKIP).isEmpty()) {
        // what is skipped is shown with why, even when nothing else changes
        printPlanText(p.plan());
        return;
      }
    } else if (event instanceof SyncEvent.ChangeFinished f) {
      if (counted(f.change().action())) {
        done++;
        Integer layer = layerOf.get(f.change().key());
        if (layer != null && layer < layerDone.length) {
          layerDone[layer]++;
        }
      }
      if (live && f.outcome().isOk()) {
        drawLiveLine();
        if (done == total) {
          endLiveLine();
        }
        out.flush();
        return;
      }
      endLiveLine();
      String verb = verb(f.change().action(), f.outcome());
      String said = message(f.change().key(), f.outcome().message());
      if (said.startsWith(verb + ":")) {
        said = said.substring(verb.length() + 1).strip();  // "forgotten: removed from the state", not twice
      }
      String message = said.isEmpty() ? "" : ": " + said;
      out.println("  [" + done + "/" + total + "] " + verb + " " + shown(f.change().key()) + message
          + (f.attempt() > 1 ? " (after " + f.attempt() + " attempts)" : ""));
    } else if (event instanceof SyncEvent.Retrying r) {
      endLiveLine();
      out.println("  retrying " + shown(r.change().key()) + " in " + r.delay().toMillis() + " ms (attempt "
          + r.attempt() + " failed: " + message(r.change().key(), r.outcome().message()) + ")");
    } else if (event instanceof SyncEvent.WaitingForHealth w) {
      endLiveLine();
      out.println("  waiting for " + shown(w.key()) + " to become healthy: " + PlanRenderer.oneLine(w.health().toString()));
    } else if (event instanceof SyncEvent.Finished) {
      endLiveLine();
    }
    out.flush();
  }

  /**
   * A key as a line of the CLI shows it: a file name from the repository may hold a line break or
   * a terminal escape sequence, printed escaped ({@link PlanRenderer#printable}), as the plan text
   * prints it.
   */
  static String shown(dev.gitops.api.ResourceKey key) {
    return PlanRenderer.printableName(key.toString());
  }

  /**
   * An outcome's message on the line of its key, printable and on one line, without the key it
   * often starts with (providers write {@code "<key>: cannot ..."} so that a message stands alone
   * in a log): {@code failed files:file::a: cannot write}, not the key twice.
   */
  static String message(dev.gitops.api.ResourceKey key, String message) {
    String k = key.toString();
    String m = message.strip();
    if (m.startsWith(k) && m.length() > k.length() && (m.charAt(k.length()) == ':' || m.charAt(k.length()) == ' ')) {
      m = m.substring(k.length() + (m.charAt(k.length()) == ':' ? 1 : 0)).strip();
    }
    return PlanRenderer.oneLine(m);
  }

  /**
   * Whether a change counts in the progress ({@code [2/3]}): it changes the live system, or a
   * planning provider's state (a forget).
   */
  private static boolean counted(dev.gitops.api.Action a) {
    return a.mutates() || a == dev.gitops.api.Action.FORGET;
  }

  /** What the outcome of a change of {@code action} is called in a progress line: a replace done is "replaced". */
  static String verb(dev.gitops.api.Action action, Outcome o) {
    if (o.isOk() && o.kind() != Outcome.Kind.SKIPPED) {
      if (action == dev.gitops.api.Action.REPLACE) {
        return "replaced";
      }
      if (action == dev.gitops.api.Action.FORGET) {
        return "forgotten";
      }
    }
    return verb(o);
  }

  /** What an outcome is called in a progress line. */
  static String verb(Outcome o) {
    return switch (o.kind()) {
      case CREATED -> "created";
      case CONFIGURED -> "updated";
      case DELETED -> "deleted";
      case UNCHANGED -> "unchanged";
      case SKIPPED -> "skipped";
      case TRANSIENT, PERMANENT -> "FAILED";
      case UNKNOWN -> "UNKNOWN (timed out or cancelled)";
    };
  }
}

package dev.gitops.cli;

import dev.gitops.api.Outcome;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import java.io.PrintWriter;

/**
 * Prints a sync as it happens: the source read, the plan (when it changes anything), and one line
 * per finished change with a running count, for example {@code [2/3] updated
 * files:file::app.properties}.
 */
final class ProgressListener implements SyncListener {

  private final PrintWriter out;
  private int total;
  private int done;

  ProgressListener(PrintWriter out) {
    this.out = out;
  }

  @Override
  public synchronized void onEvent(SyncEvent event) {
    if (event instanceof SyncEvent.SourceRead r) {
      out.println("Read " + PlanRenderer.shortRevision(r.revision()) + ": " + r.resources() + " resource"
          + (r.resources() == 1 ? "" : "s") + (r.skipped() ? " (commit unchanged since the last read)" : ""));
      if (r.historyRewritten()) {
        out.println("warning: history was rewritten: " + PlanRenderer.shortRevision(r.revision())
            + " does not descend from the last revision read");
      }
    } else if (event instanceof SyncEvent.Planned p) {
      total = (int) p.plan().changes().stream().filter(c -> c.action().mutates()).count();
      done = 0;
      if (p.plan().hasChanges()) {
        out.print(PlanRenderer.changesText(p.plan()));
        out.println("Plan: " + p.plan().summary());
      }
    } else if (event instanceof SyncEvent.ChangeFinished f) {
      if (f.change().action().mutates()) {
        done++;
      }
      String message = f.outcome().message().isEmpty() ? "" : ": " + f.outcome().message().strip().replaceAll("\\s*\\R\\s*", " ");
      out.println("  [" + done + "/" + total + "] " + verb(f.outcome()) + " " + f.change().key() + message
          + (f.attempt() > 1 ? " (after " + f.attempt() + " attempts)" : ""));
    } else if (event instanceof SyncEvent.Retrying r) {
      out.println("  retrying " + r.change().key() + " in " + r.delay().toMillis() + " ms (attempt " + r.attempt()
          + " failed: " + r.outcome().message() + ")");
    } else if (event instanceof SyncEvent.WaitingForHealth w) {
      out.println("  waiting for " + w.key() + " to become healthy (" + w.health() + ")");
    }
    out.flush();
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

package dev.gitops.cli;

import dev.gitops.api.Outcome;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncListener;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;

/**
 * Prints a sync as it happens: the source read, the plan (when it changes anything), and then
 * either one plain line per finished change with a running count ({@code [2/3] updated
 * files:file::app.properties}) when the output is not a terminal, or on a terminal one live line
 * rewritten in place with the counts per dependency layer ({@code layer 1: 3/3 done | layer 2:
 * 1/4}); failures always get a line of their own.
 */
final class ProgressListener implements SyncListener {

  private final PrintWriter out;
  private final boolean live;
  private int total;
  private int done;
  private final java.util.Map<dev.gitops.api.ResourceKey, Integer> layerOf = new java.util.HashMap<>();
  private int[] layerTotal = new int[0];
  private int[] layerDone = new int[0];
  private boolean liveLineShown;

  ProgressListener(PrintWriter out) {
    this(out, System.console() != null && !"dumb".equals(System.getenv("TERM")));
  }

  ProgressListener(PrintWriter out, boolean live) {
    this.out = out;
    this.live = live;
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
      if (c.action().mutates()) {
        max = Math.max(max, layer);
      }
    }
    layerTotal = new int[max + 1];
    layerDone = new int[max + 1];
    for (dev.gitops.api.Change c : plan.changes()) {
      if (c.action().mutates()) {
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
      computeLayers(p.plan());
      if (p.plan().hasChanges()) {
        PlanRenderer.appendChanges(p.plan(), out);
        out.println("Plan: " + p.plan().summary());
      }
    } else if (event instanceof SyncEvent.ChangeFinished f) {
      if (f.change().action().mutates()) {
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
      String message = f.outcome().message().isEmpty() ? "" : ": " + f.outcome().message().strip().replaceAll("\\s*\\R\\s*", " ");
      out.println("  [" + done + "/" + total + "] " + verb(f.outcome()) + " " + f.change().key() + message
          + (f.attempt() > 1 ? " (after " + f.attempt() + " attempts)" : ""));
    } else if (event instanceof SyncEvent.Retrying r) {
      endLiveLine();
      out.println("  retrying " + r.change().key() + " in " + r.delay().toMillis() + " ms (attempt " + r.attempt()
          + " failed: " + r.outcome().message() + ")");
    } else if (event instanceof SyncEvent.WaitingForHealth w) {
      endLiveLine();
      out.println("  waiting for " + w.key() + " to become healthy (" + w.health() + ")");
    } else if (event instanceof SyncEvent.Finished) {
      endLiveLine();
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

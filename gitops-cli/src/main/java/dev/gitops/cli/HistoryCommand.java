package dev.gitops.cli;

import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.store.FileStateStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code gitops history}: past syncs (and forgets and destroys), newest first. */
@Command(name = "history", mixinStandardHelpOptions = true,
    description = {"List past syncs, forgets and destroys, newest first: id, time (UTC), revision, plan id,"
        + " operation (sync, forget, destroy, destroy_orphan) and outcome; then the store's owner when it is not --owner.",
        "Reads the state store only: --state, or the one --target gives; --repo is not needed.",
        "Pass the id of a successful sync to 'gitops rollback' to sync its revision again."})
final class HistoryCommand implements Callable<Integer> {

  @Mixin
  TargetOptions target;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    // the history is the store's alone: no repository is read, no provider started
    Path stateDir = target.storeDirToRead();
    PrintWriter out = spec.commandLine().getOut();
    try (FileStateStore store = FileStateStore.openReadOnly(stateDir)) {
      // the whole store is checked as every other command checks it: a damaged one (meta.json, the
      // journal or the history missing or cut) is exit 1 naming what, never a table that looks fine
      store.load();
      out.print(table(store.history()));
      // read-only, so any owner may look; another owner's store says whose it is (after the table, which
      // scripts read from its second line on, and only then, so the common case prints the table alone)
      store.owner().filter(o -> !o.equals(target.owner)).ifPresent(o -> out.println("Owner: "
          + PlanRenderer.printable(o) + " (this store belongs to --owner " + PlanRenderer.printable(o) + ", not --owner "
          + PlanRenderer.printable(target.owner) + ")"));
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** An entry's operation as the table shows it: {@code sync}, {@code forget}, {@code destroy}, {@code destroy_orphan}. */
  static String operation(HistoryEntry e) {
    return e.operation().name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The entries as an aligned table (or a sentence when there are none). */
  static String table(List<HistoryEntry> entries) {
    if (entries.isEmpty()) {
      return "No syncs recorded yet.\n";
    }
    DateTimeFormatter time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    List<String[]> rows = new ArrayList<>();
    // the operation before the outcome: the columns before it stay where scripts read them, and the
    // outcome, which holds spaces, stays last
    rows.add(new String[] {"ID", "TIME", "REVISION", "PLAN", "OPERATION", "OUTCOME"});
    for (HistoryEntry e : entries) {
      Map<String, Integer> counts = new TreeMap<>(e.counts());
      StringBuilder outcome = new StringBuilder(e.status().name());
      counts.forEach((k, v) -> outcome.append(' ').append(k.toLowerCase(java.util.Locale.ROOT)).append('=').append(v));
      // an entry's own text is escaped as a plan's is: a store is a file anyone with access may edit
      rows.add(new String[] {PlanRenderer.printable(e.id()), time.format(e.time().truncatedTo(ChronoUnit.SECONDS)),
          PlanRenderer.shortRevision(e.revision()), PlanRenderer.printable(PlanRenderer.shortId(e.planId())),
          operation(e), PlanRenderer.printable(outcome.toString())});
    }
    int[] width = new int[6];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        sb.append(i < r.length - 1 ? String.format("%-" + width[i] + "s  ", r[i]) : r[i]);
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}

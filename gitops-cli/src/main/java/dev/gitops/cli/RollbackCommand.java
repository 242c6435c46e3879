package dev.gitops.cli;

import dev.gitops.api.Cancellation;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.SourceException;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.HistoryEntry;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gitops rollback <history-id>}: syncs the revision of an earlier successful sync. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
    description = {"Sync the revision an earlier successful sync applied (see 'gitops history').",
        "The branch is not changed: the next plain 'gitops sync' moves forward again, so revert the change "
            + "in Git to make the rollback stick."})
final class RollbackCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "HISTORY-ID", description = "The id of a successful sync in the history (a unique prefix will do; not a forget or a destroy).")
  String historyId;

  @Mixin
  TargetOptions target;

  @Mixin
  SafetyOptions safety;

  @Mixin
  TimeoutOptions timeouts;

  @Spec
  CommandSpec spec;

  /** The sync's options, as the flags set them (as for sync). */
  SyncOptions options() {
    return timeouts.applyTo(safety.applyTo(SyncOptions.defaults()));
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (historyId.isBlank()) {
      // an empty prefix starts every id: it would roll back to the only entry, or be "ambiguous"
      throw new IllegalArgumentException("the history id is empty: give one 'gitops history' lists");
    }
    // the flags are checked first, as sync's are (the --verify-key-ring file read): a bad flag is
    // said in its words, not as a missing history entry, and before the store is read
    target.validate();
    // the entry is found in the store as it is before anything is opened for writing: an id that
    // is not there creates no target, no store and no lock
    try (dev.gitops.core.store.FileStateStore store =
        dev.gitops.core.store.FileStateStore.openReadOnly(target.storeDirToRead())) {
      find(store.history(), historyId);
    }
    ProgressListener progress = new ProgressListener(out);
    try (Session s = Session.open(target, options(), List.of(progress))) {
      progress.explainRewrites(s.source()::historyRewrittenReason);
      progress.showReadWarnings(s.source()::readWarnings);
      HistoryEntry entry = find(s.reconciler().history(), historyId);
      out.println("Rolling back to " + PlanRenderer.shortRevision(entry.revision()) + " (history entry " + entry.id() + ")");
      out.flush();
      SyncResult result;
      try {
        result = s.reconciler().sync(entry.revision(), new Cancellation());
      } catch (SourceException e) {
        throw MissingRevision.fact(e, entry.revision()).map(fact -> notInRepository(entry, s, fact, e))
            .orElseThrow(() -> e);
      } finally {
        // the output may still be printing on its own thread: the report follows it
        progress.awaitOutput();
      }
      int code = SyncCommand.report(result, s, out, spec.commandLine().getErr());
      if (code == ExitCodes.OK) {
        progress.mute();  // the plan the note asks for is not this command's output
        out.println(branchNote(s, entry.revision()));
        out.flush();
      }
      return code;
    }
  }

  /**
   * The revision of {@code entry} is not in the repository {@code --repo} gives ({@code fact}, as
   * the source found it): said with what is known, never a guess at why. The store does not record
   * which repository its syncs read, so the flag may name another one than that sync read; or the
   * commit left the repository since (a force push, a deleted branch).
   */
  private SourceException notInRepository(HistoryEntry entry, Session s, String fact, SourceException e) {
    return new SourceException("cannot roll back to history entry " + PlanRenderer.printable(entry.id()) + ": its"
        + " revision " + PlanRenderer.shortRevision(entry.revision()) + " is not in the repository given as --repo "
        + target.repo + " (" + fact + "). The state store " + s.stateDir().toAbsolutePath().normalize()
        + " does not record which repository its syncs read: if that sync read another one, give it as --repo (with"
        + " the --path and --ref it read); if it read this one, the commit has left every branch and tag there"
        + " since (a force push, a deleted branch), and only a revision the repository still holds can be synced", e);
  }

  /** The successful sync entry with {@code id} (or the only one starting with it); never a forget's or a destroy's. */
  static HistoryEntry find(List<HistoryEntry> history, String id) {
    List<HistoryEntry> exact = history.stream().filter(e -> e.id().equals(id)).toList();
    List<HistoryEntry> matches = !exact.isEmpty() ? exact : history.stream().filter(e -> e.id().startsWith(id)).toList();
    if (matches.isEmpty()) {
      throw new IllegalArgumentException("no history entry '" + id + "' (see 'gitops history')");
    }
    if (matches.size() > 1) {
      throw new IllegalArgumentException("history id '" + id + "' is ambiguous: it starts " + matches.size()
          + " entries; give more of it");
    }
    HistoryEntry e = matches.get(0);
    if (!e.isSync()) {
      // its revision is not what it left behind: a forget applied none, a destroy's is "destroy"
      // (and any sync after a destroy creates everything again)
      throw new IllegalArgumentException("history entry " + PlanRenderer.printable(e.id()) + " is a "
          + HistoryCommand.operation(e) + " (" + whatItDid(e.operation()) + "), not a sync: there is no revision it"
          + " applied to roll back to; " + instead(history, e));
    }
    if (!e.succeeded()) {
      throw new IllegalArgumentException("history entry " + e.id() + " did not succeed (" + e.status()
          + "); roll back to a successful one");
    }
    return e;
  }

  private static String whatItDid(HistoryEntry.Operation operation) {
    return switch (operation) {
      case FORGET -> "'gitops forget': it stopped owning keys and applied no revision";
      case DESTROY -> "Reconciler.destroy(DELETE): it deleted every owned object";
      case DESTROY_ORPHAN -> "Reconciler.destroy(ORPHAN): it forgot every owned object";
      case SYNC -> "a sync";
    };
  }

  /** What to roll back to instead of {@code e}: the newest successful sync before it, if the history holds one. */
  private static String instead(List<HistoryEntry> history, HistoryEntry e) {
    return history.subList(history.indexOf(e) + 1, history.size()).stream().filter(HistoryEntry::isRollbackTarget)
        .findFirst()
        .map(s -> "give the id of a successful sync, such as " + PlanRenderer.printable(s.id()) + " ("
            + PlanRenderer.shortRevision(s.revision()) + "), the newest before it ('gitops history' shows each"
            + " entry's OPERATION)")
        .orElse("give the id of a successful sync ('gitops history' shows each entry's OPERATION; none before it is"
            + " recorded)");
  }

  private static String branchNote(Session s, String revision) {
    try {
      String head = s.reconciler().plan().revision();
      if (head.equals(revision)) {
        return "Note: this is also the revision the branch points at.";
      }
      return "Note: the branch still points at " + PlanRenderer.shortRevision(head) + "; the next 'gitops sync' without a"
          + " rollback moves forward to it again. Revert the change in Git to keep this rollback.";
    } catch (GitOpsException e) {
      // The rollback itself succeeded; not knowing the head only weakens the note.
      return "Note: the branch still points at its own head (not read: " + ExitCodes.oneLine(e) + "); the next 'gitops"
          + " sync' moves forward again. Revert the change in Git to keep this rollback.";
    }
  }
}

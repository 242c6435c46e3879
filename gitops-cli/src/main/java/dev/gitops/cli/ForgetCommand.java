package dev.gitops.cli;

import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncResult;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.render.PlanRenderer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gitops forget KEY...}: stops owning resources without touching them, like {@code
 * terraform state rm}.
 *
 * <pre class="language-shell">{@code
 * git rm app.yaml && git commit -m "app.yaml is no longer managed" && git push
 * gitops forget files:file::app.yaml --repo ./config --target /srv/config   # the file stays, unowned
 * }</pre>
 */
@Command(name = "forget", mixinStandardHelpOptions = true,
    description = {"Stop owning resources without deleting or changing them (as 'terraform state rm'): their ownership "
        + "marks are removed (the files provider's claims), then they are dropped from the state store, so no later "
        + "sync deletes, recreates or reports them.",
        "KEY is a key as 'gitops plan' prints it (provider:type:scope:name, for example files:file::app.yaml). A key "
            + "must be owned and no longer declared in Git at the head (remove it from Git first): otherwise nothing "
            + "is forgotten and it exits 1 naming the key. A key whose mark cannot be removed stays owned (exit 1); "
            + "the others are forgotten."})
final class ForgetCommand implements Callable<Integer> {

  @Parameters(index = "0..*", arity = "1..*", paramLabel = "KEY", description = "The keys to forget.")
  List<String> keys;

  @Mixin
  TargetOptions target;

  @Mixin
  TimeoutOptions timeouts;

  @Option(names = "--dry-run", description = "Check the keys and say what would be forgotten; change and record "
      + "nothing; exit 2 when something would be forgotten.")
  boolean dryRun;

  @Spec
  CommandSpec spec;

  /** The forget's options, as the flags set them. */
  SyncOptions options() {
    return timeouts.applyTo(SyncOptions.builder().dryRun(dryRun).build());
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    // the keys are checked first: a misspelt one is said in its words, before anything is opened
    List<ResourceKey> parsed = parse(keys);
    java.nio.file.Path stateDir = target.stateDir();
    if (!java.nio.file.Files.isDirectory(stateDir)) {
      // nothing is owned where no store is: said before anything is created there
      throw new IllegalArgumentException("no state store at " + stateDir + (target.state != null ? " (--state)"
          : " (the default; --state chooses another)") + ": nothing is owned there, so nothing can be forgotten");
    }
    try (Session s = dryRun ? Session.openReadOnly(target, options()) : Session.open(target, options(), List.of())) {
      SyncResult result = s.reconciler().forget(asPrinted(keys, parsed, s));
      String rev = PlanRenderer.shortRevision(result.revision());
      if (result.status() == SyncResult.Status.PLANNED) {
        out.println("Dry run: nothing was changed; would forget " + result.plan().changes().size() + " at " + rev + ":");
        result.plan().changes().forEach(c -> out.println("  forget " + ProgressListener.shown(c.key())));
        out.flush();
        return ExitCodes.PENDING;
      }
      int forgotten = 0;
      for (Map.Entry<ResourceKey, Outcome> e : result.outcomes().entrySet()) {
        if (e.getValue().isOk()) {
          forgotten++;
          out.println("  forgotten " + ProgressListener.shown(e.getKey()));
        } else {
          out.println("  failed " + ProgressListener.shown(e.getKey()) + ": "
              + ProgressListener.message(e.getKey(), e.getValue().message()));
        }
      }
      out.println("Forgot " + forgotten + " of " + result.outcomes().size() + " at " + rev + "; the objects were left"
          + " as they are (history entry " + result.historyId() + ").");
      out.flush();
      if (!result.isSuccessful()) {
        spec.commandLine().getErr().println("gitops: forget failed for " + result.failures().size() + " of "
            + result.outcomes().size() + " resources: they stay owned (history entry " + result.historyId() + ")");
        spec.commandLine().getErr().flush();
        return ExitCodes.ERROR;
      }
      return ExitCodes.OK;
    }
  }

  /**
   * Each key as given, or the owned key that {@code gitops plan} prints so: a name with a control
   * character is printed escaped ({@code files:file::new\nline.yaml}), and a key copied from there
   * means that one. Looked up only for a key written with a backslash that is not owned as written.
   */
  static List<ResourceKey> asPrinted(List<String> given, List<ResourceKey> parsed, Session s) {
    java.util.Set<ResourceKey> owned = null;
    Map<String, ResourceKey> printed = new java.util.HashMap<>();
    List<ResourceKey> out = new ArrayList<>();
    for (int i = 0; i < parsed.size(); i++) {
      ResourceKey k = parsed.get(i);
      if (given.get(i).indexOf('\\') >= 0) {
        if (owned == null) {
          dev.gitops.api.spi.StoredState stored = s.store().load();
          owned = new java.util.HashSet<>(stored.inventory().keySet());
          owned.addAll(stored.pending().keySet());
          owned.forEach(o -> printed.putIfAbsent(ProgressListener.shown(o), o));
        }
        // a key owned as written (a name with a backslash in it) is that one
        k = owned.contains(k) ? k : printed.getOrDefault(given.get(i), k);
      }
      out.add(k);
    }
    return out;
  }

  /** The keys as given, each parsed, or an error naming the first that is not a key. */
  static List<ResourceKey> parse(List<String> given) {
    List<ResourceKey> out = new ArrayList<>();
    for (String k : given) {
      try {
        out.add(ResourceKey.parse(k));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("KEY '" + PlanRenderer.printable(k) + "' is not a resource key: want"
            + " provider:type:scope:name as 'gitops plan' prints it (for example files:file::app.yaml)", e);
      }
    }
    return out;
  }
}

package dev.gitops.cli;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.Plan;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.agent.ClusterPlacement;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.redact.Redactor;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.micrometer.SyncMetrics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops status}: in sync, out of sync, or drifted. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Say whether the target is in sync, out of sync, or drifted.",
        "Out of sync: Git moved since the last sync. Drifted: someone changed a managed file by hand; the "
            + "drifted fields are listed. Exit 0 in sync, 2 otherwise.",
        "With --config: every target of a 'gitops run' agent in one table (revision, result, drift, last error) as "
            + "the agent recorded them; exit 0 when every last sync succeeded, 2 otherwise. With --cluster, also "
            + "the member that owns each target and since when."})
final class StatusCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE",
      description = "An agent's configuration: print the status of each of its targets instead of one target's.")
  Path agentConfig;

  /** Null when not given: a one-target status has one format, and --format there is refused, never ignored. */
  @Option(names = "--format", paramLabel = "FORMAT",
      description = "With --config: table or json (default: table).")
  AgentStatus.Format format;

  @Option(names = "--cluster", paramLabel = "etcd://HOST:PORT[,HOST:PORT]|k8s",
      description = "With --config: also show which member of this cluster owns each target and since when, as the "
          + "coordinator says (with k8s, the Leases' namespace is --namespace, and --kubeconfig and --context say "
          + "which cluster).")
  String cluster;

  @Option(names = "--cluster-name", paramLabel = "NAME",
      description = "With --cluster: the cluster's name, as its agents were given it (default: default).")
  String clusterName;

  @Mixin
  TargetOptions target;

  @Mixin
  SafetyOptions safety;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (agentConfig != null) {
      if (target.repo != null || target.target != null) {
        throw new IllegalArgumentException("--config reads an agent's targets: leave out --repo and --target");
      }
      if (cluster == null && clusterName != null) {
        throw new IllegalArgumentException("--cluster-name needs --cluster");
      }
      if (!"k8s".equals(cluster) && (target.kubeconfig != null || target.context != null || target.namespace != null)) {
        // with --config they would say which cluster's Leases to read: ignored, the status would read none or others
        throw new IllegalArgumentException((target.kubeconfig != null ? "--kubeconfig"
            : target.context != null ? "--context" : "--namespace") + " with --config is for --cluster k8s"
            + (cluster == null ? "" : ", not --cluster " + cluster));
      }
      Map<String, Ownership> owners = cluster == null ? null : ClusterPlacement.owners(cluster, target.namespace,
          clusterName == null ? ClusterPlacement.DEFAULT_NAME : clusterName, target.kubeconfig, target.context);
      return AgentStatus.print(agentConfig, format == null ? AgentStatus.Format.TABLE : format, out, owners);
    }
    if (cluster != null) {
      throw new IllegalArgumentException("--cluster shows the owners of an agent's targets: it needs --config");
    }
    if (format != null) {
      // a script asking for JSON must not get the text report with exit 0 or 2 as if it had
      throw new IllegalArgumentException("--format is for the status of an agent's targets: it needs --config");
    }
    try (Session s = Session.openReadOnly(target, safety.applyTo(SyncOptions.defaults()))) {
      Plan plan = s.reconciler().plan();
      s.nothingRecorded().ifPresent(out::println);
      // planned, so this owner may read it: another owner's store is shared only when every provider marks
      s.reconciler().store().owner().filter(o -> !o.equals(target.owner)).ifPresent(o -> out.println(
          "The state store " + s.stateDir() + " belongs to --owner " + o + " (shared: the provider marks each object"
              + " with its owner)."));
      print(plan, s, out);
      out.flush();
      return plan.hasChanges() || !plan.isComplete() || !unapplied(plan).isEmpty() ? ExitCodes.PENDING : ExitCodes.OK;
    }
  }

  static void print(Plan raw, Session s, PrintWriter out) {
    Plan plan = Redactor.marking().redact(raw);
    String rev = PlanRenderer.shortRevision(plan.revision());
    List<Change> drifted = plan.changes().stream().filter(c -> c.drift() && c.action() != Action.SKIP).toList();
    List<Change> unapplied = unapplied(plan);
    List<Change> other = plan.changes().stream()
        .filter(c -> !c.drift() && c.action() != Action.NOOP && c.action() != Action.SKIP).toList();
    List<Change> kept = plan.changes().stream()
        .filter(c -> c.action() == Action.SKIP && !unapplied.contains(c)).toList();
    if (!plan.hasChanges() && plan.isComplete() && unapplied.isEmpty()) {
      // what matches is what Git declares and the target holds as declared: not what is left as it is (an
      // orphan a rebuilt store keeps, a file --no-prune keeps), which is counted and listed on its own
      int matching = plan.changes(Action.NOOP).size();
      out.println("In sync: " + s.target() + " matches " + rev + " (" + matching
          + (matching == 1 ? " resource)" : " resources)")
          + (kept.isEmpty() ? "." : "; " + kept.size() + " left as they are:"));
      printSkipped(kept, out);
      return;
    }
    if (!drifted.isEmpty()) {
      out.println("Drifted: " + drifted.size() + " resource" + (drifted.size() == 1 ? " was" : "s were")
          + " changed outside gitops since the last sync (" + rev + "):");
      for (Change c : drifted) {
        out.println("  " + ProgressListener.shown(c.key()));
        for (FieldChange f : c.fields()) {
          List<String> shown = PlanRenderer.values(f.before(), f.after(), f.sensitive());
          out.println("      " + f.symbol() + " " + PlanRenderer.printable(f.path().toString()) + "  live: "
              + shown.get(0) + ", Git: " + shown.get(1));
        }
        if (c.fields().isEmpty()) {
          out.println("      " + PlanRenderer.oneLine(c.reason()));
        }
      }
    }
    if (!other.isEmpty()) {
      out.println("Out of sync with " + rev + ": " + plan.summary());
      for (Change c : other) {
        out.println("  " + PlanRenderer.symbol(c.action()) + " " + ProgressListener.shown(c.key())
            + (c.reason().isEmpty() ? "" : "  (" + PlanRenderer.oneLine(c.reason()) + ")"));
      }
    }
    if (!unapplied.isEmpty()) {
      out.println("Not applied: " + unapplied.size() + " resource" + (unapplied.size() == 1 ? "" : "s")
          + " in Git that a sync skips, so the live system does not match " + rev + ":");
      printSkipped(unapplied, out);
    }
    if (!kept.isEmpty()) {
      out.println("Left as they are: " + kept.size() + ":");
      printSkipped(kept, out);
    }
    if (!plan.isComplete()) {
      out.println("Incomplete: " + SyncCommand.incomplete(plan) + ".");
      SyncCommand.printUnknown(plan, out);
      // a sync of an incomplete plan deletes and replaces nothing, and ends incomplete (exit 1)
      out.println("Run 'gitops diff' for details; 'gitops sync' corrects it all only once what is listed as unknown"
          + " can be observed.");
      return;
    }
    if (unapplied.isEmpty()) {
      out.println("Run 'gitops diff' for details, 'gitops sync' to correct it.");
      return;
    }
    // a sync skips what is not applied again, for the reason listed: it corrects only the rest
    out.println("Run 'gitops diff' for details" + (drifted.isEmpty() && other.isEmpty() ? ""
        : ", 'gitops sync' to correct the rest") + ". A sync skips what is not applied, for the reason listed with"
        + " it: an object gitops did not create is taken over only with --adopt (never one another owner marked),"
        + " a replace blocked by --no-prune or the resource's policy only once they allow it.");
  }

  /** "Not applied": the rule the agent's status and metrics use too ({@link SyncMetrics#notApplied}). */
  static List<Change> unapplied(Plan plan) {
    return SyncMetrics.notApplied(plan);
  }

  private static void printSkipped(List<Change> skipped, PrintWriter out) {
    for (Change c : skipped) {
      out.println("  ! " + ProgressListener.shown(c.key()) + "  (" + PlanRenderer.oneLine(c.reason()) + ")");
    }
  }
}

package dev.gitops.cli;

import dev.gitops.api.Change;
import dev.gitops.api.FieldChange;
import dev.gitops.api.Plan;
import dev.gitops.cluster.Ownership;
import dev.gitops.cluster.agent.ClusterPlacement;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.redact.Redactor;
import dev.gitops.core.render.PlanRenderer;
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

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table",
      description = "With --config: table or json (default: ${DEFAULT-VALUE}).")
  AgentStatus.Format format;

  @Option(names = "--cluster", paramLabel = "etcd://HOST:PORT[,HOST:PORT]|k8s",
      description = "With --config: also show which member of this cluster owns each target and since when, as the "
          + "coordinator says (with k8s, the Leases' namespace is --namespace).")
  String cluster;

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
      Map<String, Ownership> owners = cluster == null ? null : ClusterPlacement.owners(cluster, target.namespace);
      return AgentStatus.print(agentConfig, format, out, owners);
    }
    if (cluster != null) {
      throw new IllegalArgumentException("--cluster shows the owners of an agent's targets: it needs --config");
    }
    try (Session s = Session.openReadOnly(target, safety.applyTo(SyncOptions.defaults()))) {
      Plan plan = s.reconciler().plan();
      print(plan, s, out);
      out.flush();
      return plan.hasChanges() || !plan.isComplete() ? ExitCodes.PENDING : ExitCodes.OK;
    }
  }

  static void print(Plan raw, Session s, PrintWriter out) {
    Plan plan = Redactor.marking().redact(raw);
    String rev = PlanRenderer.shortRevision(plan.revision());
    List<Change> drifted = plan.changes().stream().filter(Change::drift).toList();
    List<Change> other = plan.changes().stream()
        .filter(c -> !c.drift() && c.action() != dev.gitops.api.Action.NOOP).toList();
    if (!plan.hasChanges() && plan.isComplete()) {
      out.println("In sync: " + s.target() + " matches " + rev + " (" + plan.changes().size() + " resources).");
      return;
    }
    if (!drifted.isEmpty()) {
      out.println("Drifted: " + drifted.size() + " resource" + (drifted.size() == 1 ? " was" : "s were")
          + " changed outside gitops since the last sync (" + rev + "):");
      for (Change c : drifted) {
        out.println("  " + ProgressListener.shown(c.key()));
        for (FieldChange f : c.fields()) {
          boolean sensitive = f.sensitive();
          out.println("      " + f.symbol() + " " + PlanRenderer.printable(f.path().toString()) + "  live: "
              + (f.before() == null ? "(absent)" : PlanRenderer.value(f.before(), sensitive)) + ", Git: "
              + (f.after() == null ? "(absent)" : PlanRenderer.value(f.after(), sensitive)));
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
    if (!plan.isComplete()) {
      out.println("Incomplete: " + SyncCommand.incomplete(plan) + ".");
      SyncCommand.printUnknown(plan, out);
    }
    out.println("Run 'gitops diff' for details, 'gitops sync' to correct it.");
  }
}

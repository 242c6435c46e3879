package dev.gitops.cli;

import dev.gitops.core.render.PlanRenderer;
import dev.gitops.images.ImageUpdateResult;
import dev.gitops.images.ImageUpdater;
import dev.gitops.images.git.BranchNotFoundException;
import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.GitWriteBack;
import dev.gitops.images.git.ImageUpdate;
import dev.gitops.images.git.PathNotFoundException;
import dev.gitops.images.git.RefusedDowngrade;
import dev.gitops.images.marker.ImageMarker;
import dev.gitops.images.marker.Setter;
import dev.gitops.images.policy.FluxPolicies;
import dev.gitops.images.registry.RegistryClient;
import dev.gitops.images.registry.RegistryCredentials;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gitops images}: image update automation (registry -> policy -> marked YAML in Git). */
@Command(name = "images", mixinStandardHelpOptions = true,
    description = "Image update automation: write the newest acceptable image tags into marked YAML in Git.",
    subcommands = ImagesCommand.Update.class)
final class ImagesCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    // the one error line every usage error ends with, as 'gitops' alone says it: not the usage alone
    spec.commandLine().getErr().println("gitops: 'gitops images' needs a command: update");
    return ExitCodes.ERROR;
  }

  /** {@code gitops images update}. */
  @Command(name = "update", mixinStandardHelpOptions = true,
      description = {"Scan the registries of the policies in --policies (Flux ImageRepository and ImagePolicy "
          + "manifests), set every marked scalar (# {\"$imagepolicy\": \"<namespace>:<name>\"}) under --path to its "
          + "policy's choice, and with --push commit and push. Only the marked scalars' bytes change.",
          "Without --push nothing is committed: the updates are listed and the exit code is 2 when there are some.",
          "A tag is never downgraded: a marked tag that ranks above its policy's choice (written by hand) is kept "
              + "and listed; that alone is no failure.",
          "A policy that no marker under --path names sets nothing and is warned about, naming the namespace:name "
              + "markers must use; that alone is no failure.",
          "Exit codes: 0 done (or nothing to do); 1 when a policy failed (no fitting tag, the registry could not be "
              + "read, a pattern too slow), a marker or file could not be used, an edit was left unwritten because "
              + "someone else changed the same line, or the policies, the repository or the push failed, each named "
              + "on standard error (the other updates are still written); 2 updates pending without --push."})
  static final class Update implements Callable<Integer> {

    @Option(names = "--repo", required = true, paramLabel = "URL|PATH", description = "Git repository to update.")
    String repo;

    @Option(names = "--branch", defaultValue = "main", paramLabel = "NAME", description = "Branch to read (default: ${DEFAULT-VALUE}).")
    String branch;

    @Option(names = "--push-branch", paramLabel = "NAME", description = "Branch to push to (default: --branch).")
    String pushBranch;

    @Option(names = "--path", defaultValue = "", paramLabel = "DIR", description = "Only files under this directory are read.")
    String path;

    @Option(names = "--policies", required = true, paramLabel = "FILE",
        description = "YAML file with Flux ImageRepository and ImagePolicy documents.")
    Path policies;

    @Option(names = "--push", description = "Commit and push the updates.")
    boolean push;

    @Option(names = "--git-timeout", paramLabel = "DURATION", converter = TimeoutOptions.DurationConverter.class,
        description = "How long connecting to the repository, or one read from or write to it, may take "
            + "(default: 60s, whole seconds).")
    Duration gitTimeout;

    @Option(names = "--docker-config", paramLabel = "FILE", description = "Registry logins from a Docker config.json.")
    Path dockerConfig;

    @Option(names = "--plain-http", paramLabel = "HOST[:PORT]", split = ",",
        description = "Registries read over plain HTTP (also those of ImageRepositories with insecure: true).")
    List<String> plainHttp = new ArrayList<>();

    @Option(names = "--ca-file", paramLabel = "PEM", description = "Extra CA certificates for registries.")
    List<Path> caFiles = new ArrayList<>();

    @Option(names = "--author", defaultValue = "gitops-images", paramLabel = "NAME", description = "Commit author (default: ${DEFAULT-VALUE}).")
    String author;

    @Option(names = "--author-email", defaultValue = "gitops-images@localhost", paramLabel = "EMAIL",
        description = "Commit author email (default: ${DEFAULT-VALUE}).")
    String authorEmail;

    // $${...}: picocli would replace ${...} in a description (by null); the help shows the template's placeholders
    @Option(names = "--message", paramLabel = "TEMPLATE",
        description = "Commit message; $${count}, $${updates} and $${policies} are replaced.")
    String message;

    @Option(names = "--username", paramLabel = "USER",
        description = "User for HTTPS Git; the password is read from GITOPS_PASSWORD (a token alone: GITOPS_TOKEN).")
    String username;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      requireFile("--policies", policies);
      if (dockerConfig != null) {
        requireFile("--docker-config", dockerConfig);
      }
      caFiles.forEach(f -> requireFile("--ca-file", f));
      FluxPolicies flux = FluxPolicies.read(policies);
      // what Flux would act on and this tool does not (a Secret's login, a proxy): said once, the scan goes on
      flux.unsupported().forEach(u -> err.println("gitops: warning: " + PlanRenderer.oneLine(u)));
      // a suspended ImagePolicy or ImageRepository: Flux scans nothing for it, so its markers stay as they are
      flux.suspended().forEach((p, why) -> err.println("gitops: warning: image policy " + PlanRenderer.oneLine(p)
          + " is suspended (" + PlanRenderer.oneLine(why) + "): not scanned, its markers are left as they are"));
      if (flux.policies().isEmpty() && !flux.suspended().isEmpty()) {
        spec.commandLine().getOut().println("Every image policy of --policies " + policies
            + " is suspended: no image was checked.");
        err.flush();
        return ExitCodes.OK;
      }
      if (flux.policies().isEmpty()) {
        throw new IllegalArgumentException("--policies " + policies + " holds no ImagePolicy");
      }
      RegistryClient.Builder registry = RegistryClient.builder();
      registry.plainHttp(flux.plainHttp().toArray(String[]::new)).plainHttp(plainHttp.toArray(String[]::new));
      caFiles.forEach(registry::trustCertificates);
      if (dockerConfig != null) {
        registry.credentials(RegistryCredentials.dockerConfig(dockerConfig));
      }
      GitWriteBack.Builder git;
      try {
        git = GitWriteBack.builder(repo);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--repo: " + e.getMessage(), e);
      }
      // the builder names its own setters; the operator typed flags
      flag("--branch", branch, () -> git.branch(branch));
      flag("--path", path, () -> git.path(path));
      try {
        git.author(author, authorEmail);
      } catch (IllegalArgumentException e) {
        // the builder says which of the two it refused: "author name ..." or "author email ..."
        throw new IllegalArgumentException((e.getMessage().startsWith("author email") ? "--author-email" : "--author")
            + ": " + e.getMessage(), e);
      }
      if (gitTimeout != null) {
        git.timeout(gitTimeout);
      }
      if (pushBranch != null) {
        flag("--push-branch", pushBranch, () -> git.pushBranch(pushBranch));
      }
      if (message != null) {
        flag("--message", message, () -> git.messageTemplate(message));
      }
      if (username != null) {
        String password = System.getenv("GITOPS_PASSWORD");
        if (password == null) {
          throw new IllegalArgumentException("--username needs the password in the environment variable GITOPS_PASSWORD");
        }
        git.credentials(username, password);
      } else if (System.getenv("GITOPS_TOKEN") != null) {
        git.credentials("x-access-token", System.getenv("GITOPS_TOKEN"));
      }
      try (ImageUpdater updater = ImageUpdater.builder().registry(registry.build()).policies(flux.policies())
          .git(git.build()).build()) {
        ImageUpdateResult r;
        try {
          r = push ? updater.run() : updater.preview();
        } catch (PathNotFoundException e) {
          throw new IllegalArgumentException("--path '" + path + "' matches nothing in the repository: " + e.getMessage(), e);
        } catch (BranchNotFoundException e) {
          // the writer names the branch; the operator typed (or left to its default) a flag
          boolean typed = spec.commandLine().getParseResult().hasMatchedOption("--branch");
          throw new IllegalArgumentException("--branch '" + branch + "'" + (typed ? "" : " (the default)")
              + (e.pushBranch().equals(e.branch()) ? "" : " (nor --push-branch '" + pushBranch + "')")
              + " names no branch of --repo: " + e.getMessage(), e);
        }
        // names and reasons from the repository and the registry, one printable line each
        r.policyFailures().forEach((p, why) -> err.println("gitops: image policy " + PlanRenderer.oneLine(p) + ": "
            + PlanRenderer.oneLine(why)));
        r.problems().forEach(p -> err.println("gitops: " + PlanRenderer.oneLine(p)));
        r.warnings().forEach(w -> err.println("gitops: warning: " + PlanRenderer.oneLine(w)));
        for (EditConflict c : r.conflicts()) {
          err.println("gitops: conflict: " + PlanRenderer.oneLine(c.describe()));
        }
        for (ImageMarker m : r.unresolvedMarkers()) {
          // a marker of a policy that failed is said with the failure above; the setter is the marker's own,
          // never cut from "file:line setter" text (a setter may hold a space: "apps:my web")
          if (Setter.resolve(m.setter(), r.policyFailures().keySet()).isEmpty()
              && Setter.resolve(m.setter(), flux.suspended().keySet()).isEmpty()) {
            err.println("gitops: warning: " + PlanRenderer.oneLine(m.location() + " " + m.setter())
                + ": the marker names no policy of --policies " + policies + "; left as it is");
          }
        }
        // a policy no marker names set nothing: said, so that no line below claims its images were checked
        String where = path.isBlank() ? "in the repository" : "under --path '" + path + "'";
        for (String p : r.unmarkedPolicies()) {
          err.println("gitops: warning: image policy " + PlanRenderer.oneLine(p) + " of --policies " + policies
              + ": no marker " + where + " names it, so it set nothing; a marker names it as # {\"$imagepolicy\": \""
              + PlanRenderer.oneLine(p) + "\"} (or with :tag, :name, :digest)" + otherNamespace(p, r.unresolvedMarkers()));
        }
        for (ImageUpdate u : r.updates()) {
          out.println(PlanRenderer.oneLine(u.describe()));
        }
        for (RefusedDowngrade d : r.downgradesRefused()) {
          out.println("Not downgraded: " + PlanRenderer.oneLine(d.describe()));
        }
        // a failed policy, an unusable marker or a conflicting edit left alone: the images are not up to date
        boolean incomplete = !r.policyFailures().isEmpty() || !r.problems().isEmpty() || !r.conflicts().isEmpty();
        if (r.commit().isPresent()) {
          out.println("Pushed " + r.commit().get() + " to " + (pushBranch == null ? branch : pushBranch) + ".");
        } else if (!push && !r.updates().isEmpty()) {
          out.println(r.updates().size() + " image update(s) pending; run with --push to commit them.");
        } else if (!incomplete) {
          String kept = r.downgradesRefused().isEmpty() ? "" : " (" + r.downgradesRefused().size()
              + " marked value(s) newer than their policy allows kept as they are)";
          int unmarked = r.unmarkedPolicies().size();
          if (unmarked == 0) {
            out.println("Images are up to date" + kept + ".");
          } else if (unmarked == r.choices().size()) {
            out.println("No marker " + where + " names a policy of --policies " + policies + ": no image was checked.");
          } else {
            out.println("Images are up to date for the " + (r.choices().size() - unmarked) + " policy(ies) markers name"
                + kept + "; " + unmarked + " policy(ies) no marker names set nothing (warned above).");
          }
        }
        if (incomplete) {
          err.println("gitops: images not brought up to date: " + r.policyFailures().size() + " policy failure(s), "
              + r.conflicts().size() + " conflicting edit(s) left unwritten, " + r.problems().size()
              + " unusable marker(s) or file(s)");
        }
        out.flush();
        err.flush();
        if (incomplete) {
          return ExitCodes.ERROR;
        }
        return !push && !r.updates().isEmpty() ? ExitCodes.PENDING : ExitCodes.OK;
      }
    }

    /**
     * A hint when markers name {@code policy}'s name in another namespace ({@code apps:web} where the
     * policy, without metadata.namespace, is {@code flux-system:web}); "" when none do.
     */
    private static String otherNamespace(String policy, List<ImageMarker> unresolved) {
      int colon = policy.indexOf(':');
      String namespace = policy.substring(0, colon);
      String name = policy.substring(colon + 1);
      for (ImageMarker m : unresolved) {
        // the setter "<namespace>:<name>" with an optional ":tag", ":name" or ":digest"
        String setter = m.setter();
        String[] parts = setter.split(":");
        if (parts.length >= 2 && parts[1].equals(name) && !parts[0].equals(namespace)) {
          return "; " + PlanRenderer.oneLine(m.location()) + " names " + PlanRenderer.oneLine(setter)
              + ": the policy's namespace is " + PlanRenderer.oneLine(namespace) + " (its metadata.namespace; "
              + "flux-system when it has none)";
        }
      }
      return "";
    }

    private static void requireFile(String flag, Path file) {
      if (!Files.exists(file)) {
        throw new IllegalArgumentException(flag + " " + file + " does not exist");
      }
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(flag + " " + file + " is not a file");
      }
    }

    /** Runs a builder setter, naming {@code flag} and its value when it refuses the value. */
    private static void flag(String flag, String value, Runnable set) {
      try {
        set.run();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
      }
    }
  }
}

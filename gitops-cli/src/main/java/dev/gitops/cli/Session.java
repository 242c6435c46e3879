package dev.gitops.cli;

import dev.gitops.agent.providers.AnsibleProviderFactory;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.providers.InvalidOptionException;
import dev.gitops.agent.providers.KubernetesProviderFactory;
import dev.gitops.agent.providers.ProviderCloser;
import dev.gitops.agent.providers.TerraformProviderFactory;
import dev.gitops.ansible.AnsibleProvider;
import dev.gitops.api.StoreException;
import dev.gitops.api.SyncListener;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.terraform.TerraformEvent;
import dev.gitops.terraform.TerraformProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One command's reconciler over a Git source, the provider {@code --provider} names (files,
 * Ansible, Kubernetes or Terraform) and a file state store; closing it closes the provider, the store and the
 * source (and removes a temporary Git cache).
 *
 * <p>A read-only session (plan, diff, status, history, {@code sync --dry-run}) creates nothing: neither the target nor
 * the store. It reads a missing store as "nothing recorded" and a missing target as empty, and
 * without a store's Git cache it clones into a temporary directory removed on close.
 */
final class Session implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Session.class);

  private final Reconciler reconciler;
  private final GitSource source;
  private final StateStore store;
  private final Path tempCache;
  private final String target;
  private final Path stateDir;
  private final Provider live;
  /** The flags that say where the live system and the store are, for a hint: {@code --target and --state}. */
  private final String whereFlags;

  private Session(Reconciler reconciler, GitSource source, StateStore store, Path tempCache, String target,
      Path stateDir, Provider live, String whereFlags) {
    this.reconciler = reconciler;
    this.source = source;
    this.store = store;
    this.tempCache = tempCache;
    this.target = target;
    this.stateDir = stateDir;
    this.live = live;
    this.whereFlags = whereFlags;
  }

  /** Opens a session for {@code t} with {@code options} and {@code listeners} that may write. */
  static Session open(TargetOptions t, SyncOptions options, List<SyncListener> listeners) {
    return open(t, options, listeners, false);
  }

  /** Opens a session that never creates the target, the store or anything in them. */
  static Session openReadOnly(TargetOptions t, SyncOptions options) {
    return openReadOnly(t, options, List.of());
  }

  /** {@link #openReadOnly(TargetOptions, SyncOptions)} with {@code listeners} ({@code sync --dry-run}'s progress). */
  static Session openReadOnly(TargetOptions t, SyncOptions options, List<SyncListener> listeners) {
    return open(t, options, listeners, true);
  }

  private static Session open(TargetOptions t, SyncOptions flags, List<SyncListener> listeners, boolean readOnly) {
    t.validate();
    // every plan records what it is made for: 'sync --plan' runs a plan only there
    SyncOptions options = t.withSetting(flags);
    Path target = t.targetDir();
    Path stateDir = t.stateDir();
    Path cache = stateDir.resolve("git-cache");
    Path tempCache = null;
    // Built first: a refused provider option leaves nothing behind (no state directory, no cache).
    Provider provider = provider(t, target, stateDir, listeners, options.adopt(), readOnly);
    if (!readOnly) {
      try {
        terraformTarget(t);
      } catch (RuntimeException e) {
        ProviderCloser.close(provider, "gitops");
        throw e;
      }
    }
    try {
      if (readOnly && !Files.isDirectory(cache)) {
        tempCache = Files.createTempDirectory("gitops-cache-");
        cache = tempCache;
      }
      // The store holds hashes of secret values: create its directory owner-only before the Git
      // cache below creates it with the default mode.
      if (!readOnly) {
        DurableFiles.createPrivateDirectory(stateDir);
      }
    } catch (IOException e) {
      deleteTree(tempCache);
      ProviderCloser.close(provider, "gitops");
      throw new UncheckedIOException("cannot create the state directory " + stateDir
          + (t.state != null ? " (--state)" : " (the default; --state chooses another)") + ": "
          + whyNoDirectory(e), e);
    }
    GitSource.Builder source = GitSource.builder().url(repoUrl(t.repo)).cacheDir(cache);
    if (t.ref != null) {
      source.ref(t.ref);
    }
    if (t.path != null) {
      source.path(t.path);
    }
    dev.gitops.core.source.Credentials credentials = t.credentials();
    if (credentials != null) {
      source.credentials(credentials);
    }
    if (t.knownHosts != null) {
      source.knownHosts(t.knownHosts);
    }
    if (t.acceptUnknownHosts) {
      source.strictHostKeyChecking(false);
    }
    if (t.gitTimeout != null) {
      source.timeout(t.gitTimeout);
    }
    if (t.maxFileSize != null) {
      source.maxFileSize(t.maxFileSize);
    }
    if (t.verifyKeyRing != null) {
      source.requireSignedBy(t.verifyKeyRing.toAbsolutePath().normalize(), t.signatureMode());
    }
    StateStore store;
    try {
      store = readOnly ? FileStateStore.openReadOnly(stateDir) : FileStateStore.open(stateDir);
    } catch (RuntimeException e) {
      deleteTree(tempCache);
      ProviderCloser.close(provider, "gitops");
      throw e;
    }
    GitSource git = null;
    Session session;
    try {
      git = source.build();
      Reconciler.Builder b = Reconciler.builder()
          .source(git)
          .provider(provider)
          .store(store)
          .owner(t.owner)
          .options(options);
      listeners.forEach(b::listener);
      session = new Session(b.build(), git, store, tempCache, describe(t, target), stateDir, provider, whereFlags(t));
    } catch (RuntimeException e) {
      store.close();
      if (git != null) {
        git.close();
      }
      deleteTree(tempCache);
      ProviderCloser.close(provider, "gitops");
      throw e;
    }
    if (!readOnly) {
      try {
        checkWritable(session.store, t);
      } catch (RuntimeException e) {
        session.close();  // the provider, then the reconciler with its source and store
        throw e;
      }
    }
    return session;
  }

  /**
   * The store's check that it can be written ({@link StateStore#checkWritable}), made before the
   * command fetches anything, its refusal said with the flag that chooses the store. The engine
   * checks again when the sync, rollback or forget begins (a create and a delete of a probe file,
   * no fsync), for every caller: this one names the flag. A store that cannot record was found
   * only after the whole apply.
   */
  private static void checkWritable(StateStore store, TargetOptions t) {
    try {
      store.checkWritable();
    } catch (StoreException e) {
      throw new StoreException(e.getMessage() + " (" + (t.state != null ? "--state" : "the default store; --state"
          + " chooses another") + "); nothing was applied or recorded", e);
    }
  }

  /**
   * Creates a missing {@code --target} of {@code --provider terraform} owner-only (rwx------), as
   * the provider creates a working directory it makes: Terraform writes {@code terraform.tfstate}
   * there with every sensitive value in plain text. Called before anything under it is created (the
   * default {@code --state} is {@code <target>/.gitops}, whose parents the store would create with
   * the default mode). A target that exists keeps its permissions (its owner's to set); other
   * providers' targets are left to them.
   *
   * @throws UncheckedIOException naming the target and {@code --target} when it cannot be created
   */
  static void terraformTarget(TargetOptions t) {
    if (!t.terraform()) {
      return;
    }
    Path target = t.targetDir();
    if (Files.isDirectory(target)) {
      return;
    }
    try {
      // one made meanwhile by another process (or a link to a directory) is used as it is; a file or a
      // dangling link there is named below
      DurableFiles.createPrivateDirectory(target);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the Terraform working directory " + target + " (--target): "
          + whyNoDirectory(e), e);
    }
  }

  /**
   * The provider {@code --provider} names, configured from its options by the same code as the
   * agent's provider types, so one target behaves the same under {@code gitops sync} and {@code gitops run}.
   */
  private static Provider provider(TargetOptions t, Path target, Path stateDir, List<SyncListener> listeners,
      boolean adopt, boolean preview) {
    try {
      if (t.kubernetes()) {
        return KubernetesProviderFactory.provider(t.kubeconfig, t.context, t.namespace, t.watchNamespaces());
      }
      if ("ansible".equals(t.provider)) {
        AnsibleProvider.Builder ansible = AnsibleProviderFactory.builder(t.inventory == null ? "inventory" : t.inventory,
            t.playbook, t.inventoryOut);
        listeners.forEach(ansible::listener);
        if (t.vaultPasswordFile != null) {
          ansible.vaultPasswordFile(t.vaultPasswordFile.toAbsolutePath().normalize());
        }
        if (t.decommissionPlaybook != null) {
          // removed hosts run it before they leave the managed inventory (without it they are only dropped)
          ansible.decommissionPlaybook(t.decommissionPlaybook);
        }
        return ansible.sensitiveVariables(t.sensitive.toArray(String[]::new)).build();
      }
      if (t.terraform()) {
        // The configuration is the repository's --path; the working directory is --target.
        Map<String, String> variables = new LinkedHashMap<>();
        for (String v : t.vars) {
          int eq = v.indexOf('=');
          variables.put(v.substring(0, eq), v.substring(eq + 1));
        }
        // --adopt takes over a working directory that holds a state or configuration gitops did not make
        TerraformProvider.Builder terraform = TerraformProviderFactory.builder(target,
            t.binary == null ? "terraform" : t.binary, variables, t.varFiles);
        for (String v : t.sensitiveVars) {
          int eq = v.indexOf('=');
          try {
            terraform.sensitiveVariable(v.substring(0, eq), v.substring(eq + 1));
          } catch (IllegalArgumentException e) {
            // the builder names the variable, never its value
            throw new IllegalArgumentException("--sensitive-var: " + e.getMessage(), e);
          }
        }
        return terraform.listener(warningsTo(t.warnings())).adopt(adopt).preview(preview)
            .stateRecordCopy(stateDir)  // outlives a lost working directory when --state is elsewhere
            .sourcePath(t.path == null ? "" : t.path)  // errors name infra/main.tf, as the repository holds it
            .build();
      }
      return FilesProviderFactory.provider(target, List.of(stateDir), t.structuredGlobs(), t.sensitive, preview);
    } catch (InvalidOptionException e) {
      // the agent's option names, as this command's flags spell them
      String flag = switch (e.option()) {
        case "variables" -> "--var";
        case "varFiles" -> "--var-file";
        case "namespaces" -> "--watch-namespaces";
        default -> e.flag();
      };
      throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
  }

  /**
   * Prints each distinct warning of Terraform's once, as Terraform's own output would show it (a
   * failed check block, a deprecated attribute), naming the command it came from; the CLI's log is
   * off, where the agent logs them.
   */
  private static Consumer<TerraformEvent> warningsTo(PrintWriter err) {
    Set<String> shown = ConcurrentHashMap.newKeySet();
    return e -> {
      if (e.isWarning() && shown.add(e.message())) {
        synchronized (err) {
          err.println(PlanRenderer.oneLine(e.message()) + " (terraform " + e.command() + ")");
          err.flush();
        }
      }
    };
  }

  /** What the live system is, for messages: the target directory, the fleet's inventory or the cluster. */
  private static String describe(TargetOptions t, Path target) {
    if (t.kubernetes()) {
      return "the cluster" + (t.context == null ? "" : " of context " + t.context);
    }
    return "ansible".equals(t.provider) ? "the fleet of " + t.inventoryOut : target.toString();
  }

  /** The flags that place the live system and the store: Ansible has no --target, Kubernetes only --state. */
  private static String whereFlags(TargetOptions t) {
    if (t.kubernetes()) {
      return "--state";
    }
    return "ansible".equals(t.provider) ? "--inventory-out and --state" : "--target and --state";
  }

  /** Removes a temporary Git cache (null: none); a failure only leaves it for the system's temp cleaner. */
  private static void deleteTree(Path dir) {
    deleteTree(dir, "the temporary Git cache");
  }

  /**
   * Removes the temporary directory {@code dir} ({@code what}, for the log; null: none); a failure
   * only leaves it for the system's temp cleaner, and the command's own result stands.
   */
  static void deleteTree(Path dir, String what) {
    if (dir == null) {
      return;
    }
    try {
      ChildClassData.deleteTree(dir);
    } catch (IOException e) {
      LOG.debug("cannot remove {} {}: {}", what, dir, e.toString());
    }
  }

  /**
   * Why a directory could not be made, for a message: the path the file system names and what is
   * wrong with it. NIO gives only the path as the message of the common cases (a file or a link to
   * nothing in the way, a permission denied), which said the path twice and never why.
   */
  static String whyNoDirectory(IOException e) {
    if (!(e instanceof java.nio.file.FileSystemException f) || f.getReason() != null || f.getFile() == null) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
    Path p = Path.of(f.getFile());
    String what;
    if (e instanceof java.nio.file.AccessDeniedException) {
      what = "permission denied";
    } else if (e instanceof java.nio.file.FileAlreadyExistsException && Files.isSymbolicLink(p) && !Files.exists(p)) {
      String to;
      try {
        to = Files.readSymbolicLink(p).toString();
      } catch (IOException | UnsupportedOperationException unreadable) {
        to = "?";  // the link itself is what is in the way: where it points only adds to the message
      }
      what = "is a symbolic link to '" + to + "', which does not exist";
    } else if (e instanceof java.nio.file.FileAlreadyExistsException || e instanceof java.nio.file.NotDirectoryException) {
      what = "is a file, not a directory";
    } else if (e instanceof java.nio.file.NoSuchFileException) {
      what = "no such file or directory";
    } else {
      what = e.getClass().getSimpleName();
    }
    return f.getFile() + " " + (what.startsWith("is ") ? what : "(" + what + ")");
  }

  /** A local directory becomes an absolute path; anything else (a URL) is passed on as given. */
  static String repoUrl(String repo) {
    try {
      Path p = Path.of(repo);
      if (Files.isDirectory(p)) {
        return p.toAbsolutePath().normalize().toString();
      }
    } catch (InvalidPathException e) {
      // Not a path on this system (a URL such as https://...): passed on unchanged below.
    }
    return repo;
  }

  Reconciler reconciler() {
    return reconciler;
  }

  StateStore store() {
    return store;
  }

  /** The Git source the reconciler reads (it says why a read was flagged history rewritten). */
  GitSource source() {
    return source;
  }

  /** What the live system is, for messages: the target directory, the fleet or the cluster. */
  String target() {
    return target;
  }

  Path stateDir() {
    return stateDir;
  }

  /**
   * A line saying that the store records no sync, or empty when it does: then every resource is
   * "to be created", and a mistyped {@code --target} or {@code --state} would look like a first
   * sync unless it is said (as {@code history} says "No syncs recorded yet").
   */
  Optional<String> nothingRecorded() {
    if (!(store instanceof FileStateStore f) || !f.isFresh() || !f.history().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("Nothing recorded yet: the state store " + stateDir.toAbsolutePath().normalize() + " holds no sync"
        + (Files.isDirectory(stateDir) ? "" : " (it does not exist)") + ", so everything Git declares is new to "
        + target + ". If a sync ran there before, check " + whereFlags + ".");
  }

  @Override
  public void close() {
    ProviderCloser.close(live, "gitops");  // logs a failure: nothing is lost, the store still closes below
    try {
      reconciler.close();  // closes the source and the store it was given
    } finally {
      deleteTree(tempCache);
    }
  }
}

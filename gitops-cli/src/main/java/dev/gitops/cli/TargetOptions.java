package dev.gitops.cli;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.providers.InvalidOptionException;
import dev.gitops.agent.providers.KubernetesProviderFactory;
import dev.gitops.agent.providers.LocalRepository;
import dev.gitops.api.SourceException;
import dev.gitops.api.internal.Sha256;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.internal.git.GitUrls;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.source.SignatureMode;
import dev.gitops.core.source.spi.CommitSignatures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.io.PrintWriter;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Where the desired state comes from and which live system it is applied to (shared by the commands).
 *
 * <pre class="language-shell">{@code
 * gitops plan --repo https://git.example.com/ops.git --ref main --path web --target /srv/web
 * gitops sync --provider k8s --repo ./ops --state /var/lib/gitops/k8s --context prod --namespace web
 * gitops sync --provider k8s --repo ./ops --state /var/lib/gitops/shop --watch-namespaces shop,shop-staging
 * gitops sync --provider ansible --repo ./ops --playbook site.yml --inventory-out /etc/ansible/managed.yml
 * }</pre>
 */
public final class TargetOptions {

  /** The command these options belong to: where its error stream is. */
  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  /** The Git repository. */
  @Option(names = "--repo", paramLabel = "URL|PATH",
      description = "Git repository holding the desired state: a URL or a local path.")
  String repo;

  /** The ref. */
  @Option(names = "--ref", paramLabel = "REF",
      description = "Branch, tag or commit to read (default: the repository's default branch).")
  String ref;

  /** The sub-path. */
  @Option(names = "--path", paramLabel = "DIR",
      description = "Directory inside the repository that holds the desired state (default: the root).")
  String path;

  /** The provider id. */
  @Option(names = "--provider", paramLabel = "ID", defaultValue = "files",
      description = "The live system: 'files', a directory (--target); 'ansible', a fleet converged with"
          + " ansible-playbook (--playbook, --inventory, --inventory-out, --decommission-playbook); 'k8s', a Kubernetes"
          + " cluster"
          + " (--kubeconfig, --context, --namespace, --watch-namespaces); or 'terraform', a Terraform or OpenTofu"
          + " configuration planned and applied in the --target working directory (--binary, --var, --sensitive-var,"
          + " --var-file)"
          + " (default: ${DEFAULT-VALUE}).")
  String provider;

  /** Ansible: the playbook in the repository. */
  @Option(names = "--playbook", paramLabel = "FILE",
      description = "Ansible: the playbook, a path in the repository; its directory (roles, templates) is desired state.")
  String playbook;

  /** Ansible: the playbook run on hosts removed from the inventory, in the repository. */
  @Option(names = "--decommission-playbook", paramLabel = "FILE",
      description = "Ansible: a playbook run on hosts removed from the inventory before they are dropped from the"
          + " managed inventory; a path in the repository, in the directory of --playbook (default: none, a removed"
          + " host is only dropped).")
  String decommissionPlaybook;

  /** Ansible: the inventory in the repository. */
  @Option(names = "--inventory", paramLabel = "PATH",
      description = "Ansible: the inventory in the repository, a file or a directory (default: inventory).")
  String inventory;

  /** Ansible: where the managed inventory is written. */
  @Option(names = "--inventory-out", paramLabel = "FILE",
      description = "Ansible: where the managed inventory is written, a YAML file named .yml, .yaml, .json or"
          + " without an extension (state default: <its directory>/.gitops/).")
  Path inventoryOut;

  /**
   * Ansible: the vault password file, handed to the provider (which decrypts vault-encrypted
   * inventory vars files with it) and to {@code ansible-playbook} as {@code --vault-password-file};
   * only its path is ever shown.
   */
  @Option(names = "--vault-password-file", paramLabel = "FILE",
      description = "Ansible: the vault password file, for vault-encrypted vars files and !vault values (passed to"
          + " ansible-playbook as --vault-password-file; the password is never shown).")
  Path vaultPasswordFile;

  /** The kubeconfig of --provider k8s. */
  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "With --provider k8s: the kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster).")
  Path kubeconfig;

  /** The kubeconfig context of --provider k8s. */
  @Option(names = "--context", paramLabel = "NAME",
      description = "With --provider k8s: the kubeconfig context (default: the current context).")
  String context;

  /** The default namespace of --provider k8s. */
  @Option(names = "--namespace", paramLabel = "NS",
      description = "With --provider k8s: the namespace of manifests that name none (default: default).")
  String namespace;

  /**
   * The namespaces {@code --provider k8s} lists namespaced kinds in, as given: one flag may hold
   * several, separated by commas ({@link #watchNamespaces()}).
   */
  @Option(names = "--watch-namespaces", paramLabel = "NS[,NS...]",
      description = "With --provider k8s: list namespaced kinds only in these namespaces, never cluster-wide, for"
          + " credentials bound to them alone (a Role per namespace); objects in other namespaces are unknown, never"
          + " changed or deleted. Separated by commas; repeatable (default: every namespace).")
  List<String> watchNamespaces = new ArrayList<>();

  /** The namespaces of {@code --watch-namespaces}, each flag's value split at its commas, in order, once each. */
  List<String> watchNamespaces() {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    for (String value : watchNamespaces) {
      out.addAll(List.of(value.split(",", -1)));
    }
    return List.copyOf(out);
  }

  /** The terraform or tofu binary. */
  @Option(names = "--binary", paramLabel = "NAME|PATH",
      description = "With --provider terraform: 'terraform' (default) or 'tofu', looked up on PATH, or the binary's path.")
  String binary;

  /** Terraform variables. */
  @Option(names = "--var", paramLabel = "NAME=VALUE",
      description = "With --provider terraform: a variable (repeatable); values never reach a command line.")
  List<String> vars = new ArrayList<>();

  /**
   * Terraform variables whose values are secret: set as {@code --var} sets them, and scrubbed from
   * every plan, plan file, history entry, message and log line ({@code
   * TerraformProvider.Builder.sensitiveVariable}).
   */
  @Option(names = "--sensitive-var", paramLabel = "NAME=VALUE",
      description = "With --provider terraform: a variable whose value is secret (repeatable): set as --var sets it,"
          + " and shown as (sensitive) or its HMAC in plans, plan files, history and messages, never as given.")
  List<String> sensitiveVars = new ArrayList<>();

  /** Terraform variable files. */
  @Option(names = "--var-file", paramLabel = "FILE",
      description = "With --provider terraform: a variable file (repeatable): a path relative to --path, read from the"
          + " revision (not from the current directory), or an absolute path on this host.")
  List<String> varFiles = new ArrayList<>();

  /** The target directory. */
  @Option(names = "--target", paramLabel = "DIR", description = "The directory the files are kept in.")
  Path target;

  /** The state directory. */
  @Option(names = "--state", paramLabel = "DIR",
      description = "State store directory (default: <target>/.gitops/, excluded from reconciliation). "
          + "The Git cache lives in <state>/git-cache.")
  Path state;

  /** The owner id. */
  @Option(names = "--owner", paramLabel = "ID", defaultValue = "gitops",
      description = "Owner id of this reconciler instance (default: ${DEFAULT-VALUE}).")
  String owner;

  /**
   * Globs of structured files, as given: one flag may hold several, separated by commas outside
   * braces ({@link #structuredGlobs()}). Not picocli's {@code split = ","}: that cut the glob's own
   * alternation, so {@code '{k8s,apps}/*.yaml'} became two globs, each an unbalanced brace.
   */
  @Option(names = "--structured", paramLabel = "GLOB[,GLOB...]",
      description = "Files merged field by field (JSON/YAML) rather than as whole text, for example '**/*.json'; "
          + "several globs are separated by commas (a comma inside {a,b} is the glob's own alternation).")
  List<String> structured = new ArrayList<>();

  /** The globs of {@code --structured}, each flag's value split at the commas that are not inside braces. */
  List<String> structuredGlobs() {
    List<String> globs = new ArrayList<>();
    for (String value : structured) {
      int depth = 0;
      int start = 0;
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == '{') {
          depth++;
        } else if (c == '}' && depth > 0) {
          depth--;
        } else if (c == ',' && depth == 0) {
          globs.add(value.substring(start, i));
          start = i + 1;
        }
      }
      globs.add(value.substring(start));
    }
    return globs;
  }

  /** Sensitive rules of the files provider. */
  @Option(names = "--sensitive", paramLabel = "GLOB:POINTER",
      description = "Values at POINTER (a JSON pointer, '*' one segment, '**' any) in the files matching GLOB are "
          + "secret: shown as (sensitive), stored only as keyed hashes. The pointer reaches into --structured "
          + "files; any other file a rule matches, or a rule without ':POINTER', is secret whole. Repeatable; "
          + "the repository's .gitops.yaml can list more (files.sensitive). With --provider ansible: the name of "
          + "a variable whose value is secret ('*' as a wildcard).")
  List<String> sensitive = new ArrayList<>();

  /** SSH private key for ssh:// and user@host:path repositories. */
  @Option(names = "--ssh-key", paramLabel = "FILE",
      description = "Private key for SSH repositories; its passphrase, if any, is read from the environment variable GITOPS_SSH_PASSPHRASE.")
  Path sshKey;

  /** known_hosts file for SSH. */
  @Option(names = "--known-hosts", paramLabel = "FILE",
      description = "known_hosts file the SSH server's key must be listed in (unknown hosts are refused).")
  Path knownHosts;

  /** Accept SSH hosts that are not in known_hosts (a changed key is still refused). */
  @Option(names = "--accept-unknown-hosts",
      description = "Accept an SSH server whose key is not in --known-hosts (logged); a changed key is always refused.")
  boolean acceptUnknownHosts;

  /**
   * The OpenPGP public key ring whose keys must have signed what {@code --verify-mode} names, or
   * null: no signature is required.
   */
  @Option(names = "--verify-key-ring", paramLabel = "FILE",
      description = "OpenPGP public keys (armored or binary, such as 'gpg --export --armor KEYID'): the commit read"
          + " must be signed by one of them, or the tag, as --verify-mode says (default: no signature required). A plan"
          + " saved with it records the mode, the file and its SHA-256; 'sync --plan' verifies as recorded without the"
          + " flag, refusing a changed or missing file, or against the ring this flag names.")
  Path verifyKeyRing;

  /**
   * What {@code --verify-key-ring} checks, as given ({@link #signatureMode()} reads it): a string,
   * not an enum, since its values are spelt with a hyphen ({@code tag-and-head}).
   */
  @Option(names = "--verify-mode", paramLabel = "head|tag|tag-and-head",
      description = "With --verify-key-ring: 'head', the commit's signature (default); 'tag', the annotated tag's"
          + " (--ref names a tag signed with git tag -s, or a version range over such tags); 'tag-and-head', both.")
  String verifyMode;

  /**
   * The signature mode {@code --verify-mode} names ({@code head} when it is not given), in any case.
   *
   * @throws IllegalArgumentException naming the flag and its values when it names none
   */
  SignatureMode signatureMode() {
    String mode = verifyMode == null ? "head" : verifyMode.toLowerCase(java.util.Locale.ROOT);
    return switch (mode) {
      case "head" -> SignatureMode.HEAD;
      case "tag" -> SignatureMode.TAG;
      case "tag-and-head" -> SignatureMode.TAG_AND_HEAD;
      default -> throw new IllegalArgumentException("--verify-mode '" + verifyMode + "': give head (the commit's"
          + " signature), tag (the annotated tag's) or tag-and-head (both)");
    };
  }

  /** The Git network timeout, or null for the source's default. */
  @Option(names = "--git-timeout", paramLabel = "DURATION", converter = TimeoutOptions.DurationConverter.class,
      description = "How long connecting to the repository, or one read from it, may take (default: 60s, whole "
          + "seconds); a server that stops answering then fails the read.")
  Duration gitTimeout;

  /** The largest file read from the repository, in bytes, or null for the source's default. */
  @Option(names = "--max-file-size", paramLabel = "SIZE", converter = SizeConverter.class,
      description = "The largest file read from the repository: bytes, or with a unit KiB, MiB or GiB, such as 4MiB "
          + "(default: 1MiB); a larger file that .gitopsignore does not leave out fails the read.")
  Long maxFileSize;

  /** picocli's hook: its message is printed as the one-line usage error, after the flag's name. */
  static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      return ConfigNode.parseSize(value).orElseThrow(() -> new CommandLine.TypeConversionException(
          "'" + value + "' is not " + ConfigNode.SIZE_FORMS));
    }
  }

  /** User name for HTTPS basic authentication. */
  @Option(names = "--username", paramLabel = "USER",
      description = "User for HTTPS basic authentication; the password is read from GITOPS_PASSWORD, never from a flag.")
  String username;

  /** The target directory, absolute (for Ansible, the managed inventory's directory); null for Kubernetes. */
  Path targetDir() {
    if (kubernetes()) {
      return null;
    }
    Path t = "ansible".equals(provider) ? inventoryOut.toAbsolutePath().getParent() : target;
    return t.toAbsolutePath().normalize();
  }

  /** The state directory: {@code --state}, or {@code <target>/.gitops}. */
  Path stateDir() {
    return state != null ? state.toAbsolutePath().normalize() : targetDir().resolve(".gitops");
  }

  /**
   * What a plan is made for, by name, each value the same for two spellings of one place (links
   * resolved, {@code ./apps/} read as {@code apps}): the repository (a local one by its real path,
   * a URL without its password), its sub-path, the provider, the live system (the target
   * directory; Ansible's managed inventory; a cluster's context, server and default namespace, and the
   * namespaces of {@code --watch-namespaces}, in any order), the state store and
   * the rules of {@code --structured} and {@code --sensitive} (in any order).
   * Recorded in the plan ({@link SyncOptions#setting()}), so {@code sync --plan} refuses a plan made
   * for another; call after {@link #validate()}.
   */
  Map<String, String> setting() {
    if (setting == null) {
      // once per command (sync --plan compares it, then the session records it): it reads the
      // kubeconfig and resolves links, and must be the same both times
      setting = java.util.Collections.unmodifiableMap(readSetting());
    }
    return setting;
  }

  private Map<String, String> setting;

  private Map<String, String> readSetting() {
    // in the order a user gives the flags: sync --plan names the first that differs, and a --target
    // that moves the default --state is named as --target
    Map<String, String> m = new LinkedHashMap<>();
    m.put("repo", repoSetting());
    m.put("path", path == null ? "" : GitSource.normalizedPath(path));
    m.put("provider", provider);
    m.put("target", kubernetes() ? cluster()
        : "ansible".equals(provider) ? PlanCommand.resolved(inventoryOut.toAbsolutePath().normalize()).toString()
        : PlanCommand.resolved(targetDir()).toString());
    if (kubernetes()) {
      // what the cluster is observed through: a key outside them is unknown, and no orphan is looked for there
      m.put("namespaces", String.join(",", new java.util.TreeSet<>(watchNamespaces())));
    }
    m.put("state", PlanCommand.resolved(stateDir()).toString());
    // the rules decide which files merge by field and which values are secret: the plan's changes follow from them
    m.put("structured", String.join(" ", new java.util.TreeSet<>(structuredGlobs())));
    m.put("sensitive", String.join(" ", new java.util.TreeSet<>(sensitive)));
    return m;
  }

  /**
   * The cluster and default namespace of {@code --provider k8s} as a plan records them: the
   * context's name and server as the kubeconfig gives them now (the file's current context may
   * change between plan and sync), and the namespace of manifests that name none.
   */
  private String cluster() {
    try {
      return KubernetesProviderFactory.cluster(kubeconfig, context) + ", namespace "
          + (namespace == null ? "default" : namespace);
    } catch (InvalidOptionException e) {
      throw new IllegalArgumentException(e.flag() + ": " + e.getMessage(), e);
    }
  }

  /** The repository as a plan records it: a local directory by its real path, a URL without its password. */
  private String repoSetting() {
    try {
      Path p = Path.of(repo);
      if (Files.isDirectory(p)) {
        return PlanCommand.resolved(p.toAbsolutePath().normalize()).toString();
      }
    } catch (java.nio.file.InvalidPathException e) {
      // not a path on this system: a URL
    }
    return GitUrls.display(repo);
  }

  /** The setting that records the signature mode a plan's commit was verified with: {@code head}, {@code tag}, .... */
  static final String VERIFY_MODE = "verifyMode";
  /** The setting that records the key ring a plan's commit was verified against: its absolute path. */
  static final String VERIFY_KEY_RING = "verifyKeyRing";
  /** The setting that records the SHA-256 (hex) of that key ring's bytes when the plan was made. */
  static final String VERIFY_KEY_RING_SHA256 = "verifyKeyRingSha256";

  /**
   * How the commit is verified, by setting name ({@link #VERIFY_MODE}, {@link #VERIFY_KEY_RING},
   * {@link #VERIFY_KEY_RING_SHA256}), as the plans of this command record it; empty without {@code
   * --verify-key-ring}. Recorded beside {@link #setting()} but not compared with a reviewed plan's
   * as it is: {@code sync --plan} verifies as the plan recorded ({@link #recordVerification}). Call
   * after {@link #validate()}.
   *
   * @throws IllegalArgumentException naming {@code --verify-key-ring} when the file cannot be read
   */
  Map<String, String> verification() {
    if (verifyKeyRing == null) {
      return Map.of();
    }
    Path ring = verifyKeyRing.toAbsolutePath().normalize();
    Map<String, String> m = new LinkedHashMap<>();
    m.put(VERIFY_MODE, modeName(signatureMode()));
    m.put(VERIFY_KEY_RING, ring.toString());
    try {
      m.put(VERIFY_KEY_RING_SHA256, sha256(ring));
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("--verify-key-ring " + ring + ": cannot read it: " + e.getMessage(), e);
    }
    return m;
  }

  /** The verification a reviewed plan recorded, which the plans of this command record instead of the flags'. */
  private Map<String, String> recordedVerification;

  /**
   * Makes the plans of this command record {@code recorded} (names without {@code setting.}) as
   * their verification, whatever the flags verify with: {@code sync --plan} recomputes the reviewed
   * plan, which must record what it recorded to match it.
   */
  void recordVerification(Map<String, String> recorded) {
    recordedVerification = Map.copyOf(recorded);
  }

  /** The flag's spelling of {@code mode}: {@code head}, {@code tag} or {@code tag-and-head}. */
  static String modeName(SignatureMode mode) {
    return mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  /** The SHA-256 of {@code file}'s bytes, as lower-case hex. */
  static String sha256(Path file) throws java.io.IOException {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      return Sha256.hex(in);
    }
  }

  /**
   * {@code options} with {@link #setting()} and the verification ({@link #verification()}, or the
   * one a reviewed plan recorded) recorded in the plans they make.
   */
  SyncOptions withSetting(SyncOptions options) {
    SyncOptions.Builder b = options.toBuilder();
    setting().forEach(b::setting);
    (recordedVerification != null ? recordedVerification : verification()).forEach(b::setting);
    return b.build();
  }

  /** The flag that gives the plan option {@code name} ({@code owner}, {@code setting.target}, ...). */
  String flagOf(String name) {
    return switch (name) {
      case "owner" -> "--owner";
      case "setting.repo" -> "--repo";
      case "setting.path" -> "--path";
      case "setting.provider" -> "--provider";
      case "setting.state" -> "--state";
      case "setting.structured" -> "--structured";
      case "setting.sensitive" -> "--sensitive";
      case "setting.namespaces" -> "--watch-namespaces";
      case "setting." + VERIFY_MODE -> "--verify-mode";
      case "setting." + VERIFY_KEY_RING, "setting." + VERIFY_KEY_RING_SHA256 -> "--verify-key-ring";
      case "setting.target" -> kubernetes() ? "--context" : "ansible".equals(provider) ? "--inventory-out" : "--target";
      default -> name;
    };
  }

  /** Whether the live system is a Kubernetes cluster. */
  boolean kubernetes() {
    return "k8s".equals(provider);
  }

  /**
   * Where the live system's warnings are printed: the command's error stream, beside its one-line
   * errors, so its output stays the plan or the result alone.
   */
  PrintWriter warnings() {
    return command == null ? new PrintWriter(LogLines.userErr(), true) : command.commandLine().getErr();
  }

  /** Whether the live system is a Terraform or OpenTofu configuration. */
  boolean terraform() {
    return "terraform".equals(provider);
  }

  /**
   * Checks that the flags a session needs are there.
   *
   * @throws IllegalArgumentException naming the missing or bad flag
   */
  void validate() {
    if (repo == null) {
      throw new IllegalArgumentException("missing --repo: the Git repository (URL or local path) to read");
    }
    if ("".equals(path)) {
      // an unset variable in a script ('--path "$DIR"'), never the root by accident: the whole repository
      // would be synced into the target
      throw new IllegalArgumentException("--path is empty: give a directory of the repository, '.' for its root, or"
          + " leave the flag out");
    }
    // checked before anything is created: a refused --path or --ref leaves no state directory behind
    sourceFlag("--ref", ref, b -> b.ref(ref));
    sourceFlag("--path", path, b -> b.path(path));
    validateLiveSide(false);
  }

  /** Gives {@code value} to a source builder as {@code set} does, naming {@code flag} if it is refused. */
  private static void sourceFlag(String flag, String value, Consumer<GitSource.Builder> set) {
    if (value == null) {
      return;
    }
    try {
      set.accept(GitSource.builder());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
  }

  /**
   * The state directory of a command that reads only the store: {@code --state} when it is given
   * (no target flag is needed then), else the one the target flags give, checked by {@link
   * #validateLiveSide} for a store alone (the playbook and the credentials are not read).
   *
   * @throws IllegalArgumentException naming the missing or bad flag
   */
  Path storeDirToRead() {
    if (state == null) {
      validateLiveSide(true);
      return stateDir();
    }
    requireRepoNotBlank();
    if (state.toString().isBlank()) {
      throw new IllegalArgumentException("--state is empty: give the state store's directory");
    }
    requireStateNotAFile();
    return state.toAbsolutePath().normalize();
  }

  /** A {@code --state} that exists is a directory: a file there would read as an empty store. */
  private void requireStateNotAFile() {
    if (state != null && Files.exists(state) && !Files.isDirectory(state)) {
      throw new IllegalArgumentException("--state " + state.toAbsolutePath().normalize() + " is a file, not a directory");
    }
  }

  /**
   * A {@code --decommission-playbook} is a relative path in the repository, in the directory of
   * {@code --playbook}: the provider reads that directory (roles, templates) and nothing else of the
   * playbooks, so one elsewhere would only fail the plan as "not in the source".
   */
  private void requireDecommissionPlaybookBesideThePlaybook() {
    if (decommissionPlaybook == null) {
      return;
    }
    Path d;
    try {
      d = Path.of(decommissionPlaybook).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException("--decommission-playbook '" + decommissionPlaybook + "' is not a path: "
          + e.getMessage(), e);
    }
    if (d.isAbsolute() || d.startsWith("..") || d.toString().isEmpty()) {
      throw new IllegalArgumentException("--decommission-playbook '" + decommissionPlaybook
          + "' must be a relative path inside the repository");
    }
    Path dir = playbook == null || playbook.isBlank() ? null : Path.of(playbook).normalize().getParent();
    if (dir != null && !d.startsWith(dir)) {
      throw new IllegalArgumentException("--decommission-playbook '" + decommissionPlaybook + "' is not in the"
          + " directory of --playbook '" + playbook + "' (" + dir + "/): the provider reads that directory with the"
          + " playbook, its roles and files, and no playbook outside it");
    }
  }

  private void requireRepoNotBlank() {
    if (repo != null && repo.isBlank()) {
      throw new IllegalArgumentException("--repo is empty: give the Git repository (URL or local path) to read");
    }
    requireOwner();
  }

  /**
   * An {@code --owner} the engine would refuse (blank, or holding control or format characters) is
   * refused naming the flag, by every command, {@code history} included (which builds no engine and
   * compared the store's owner with a blank one).
   */
  private void requireOwner() {
    if (owner == null) {
      return;  // not parsed from a command line: picocli's default is gitops
    }
    try {
      dev.gitops.core.Reconciler.builder().owner(owner);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--owner: " + e.getMessage(), e);
    }
  }

  /**
   * {@link #validate()} without requiring {@code --repo} (an empty one is still an error); also
   * refuses a target that is a file. With {@code storeOnly}, for a command that reads only the state
   * store, what does not say where the store is is not required: Ansible's {@code --playbook}, and
   * the password or passphrase a credential flag needs (given flags are still checked for blanks
   * and for belonging to the provider).
   *
   * @throws IllegalArgumentException naming the missing or bad flag
   */
  private void validateLiveSide(boolean storeOnly) {
    requireRepoNotBlank();
    // An empty value is never a path or a name by accident: an empty --inventory-out, for one,
    // would put the managed inventory and the store beside the working directory.
    for (Object[] flag : new Object[][] {{"--playbook", playbook}, {"--inventory", inventory},
        {"--decommission-playbook", decommissionPlaybook},
        {"--inventory-out", inventoryOut}, {"--vault-password-file", vaultPasswordFile},
        {"--kubeconfig", kubeconfig}, {"--context", context},
        {"--namespace", namespace}, {"--binary", binary}}) {
      if (flag[1] != null && flag[1].toString().isBlank()) {
        throw new IllegalArgumentException(flag[0] + " is empty: give a value or leave the flag out");
      }
    }
    if (!kubernetes() && (kubeconfig != null || context != null || namespace != null)) {
      throw new IllegalArgumentException("--kubeconfig, --context and --namespace belong to --provider k8s");
    }
    if (!kubernetes() && !watchNamespaces.isEmpty()) {
      throw new IllegalArgumentException("--watch-namespaces is for --provider k8s (with --provider " + provider
          + " there are no namespaces to watch)");
    }
    for (String value : watchNamespaces) {
      for (String ns : value.split(",", -1)) {
        try {
          KubernetesProviderFactory.checkNamespaces(java.util.Collections.singletonList(ns.isEmpty() ? null : ns));
        } catch (InvalidOptionException e) {
          throw new IllegalArgumentException("--watch-namespaces '" + value + "': " + (ns.isEmpty()
              ? "an empty namespace name (a comma too many?); give names separated by commas, such as shop,shop-staging"
              : e.getMessage()), e);
        }
      }
    }
    if (!terraform() && (binary != null || !vars.isEmpty() || !varFiles.isEmpty() || !sensitiveVars.isEmpty())) {
      throw new IllegalArgumentException((binary != null ? "--binary" : !vars.isEmpty() ? "--var"
          : !varFiles.isEmpty() ? "--var-file" : "--sensitive-var") + " is for --provider terraform");
    }
    // Another provider would drop them unread: a playbook the user believes ran, a target nothing is written to.
    if (!"ansible".equals(provider) && (playbook != null || inventory != null || inventoryOut != null
        || vaultPasswordFile != null || decommissionPlaybook != null)) {
      throw new IllegalArgumentException((playbook != null ? "--playbook" : inventory != null ? "--inventory"
          : inventoryOut != null ? "--inventory-out" : vaultPasswordFile != null ? "--vault-password-file"
          : "--decommission-playbook") + " is for --provider ansible");
    }
    requireDecommissionPlaybookBesideThePlaybook();
    if (vaultPasswordFile != null && !storeOnly) {
      requireReadableVaultPasswordFile();
    }
    if (target != null && ("ansible".equals(provider) || kubernetes())) {
      throw new IllegalArgumentException("--target is not used with --provider " + provider + ": "
          + (kubernetes() ? "the cluster is the live system (--state for the store)"
              : "the managed inventory is --inventory-out (its directory holds the store unless --state)"));
    }
    String what = terraform() ? "the working directory Terraform runs in"
        : "the directory the files provider keeps in line";
    if (kubernetes()) {
      if (state == null) {
        throw new IllegalArgumentException("missing --state: the directory of the state store (--provider k8s has no --target)");
      }
    } else if ("ansible".equals(provider)) {
      if (playbook == null && !storeOnly) {
        throw new IllegalArgumentException("missing --playbook: the Ansible playbook, a path in the repository");
      }
      if (inventoryOut == null) {
        throw new IllegalArgumentException("missing --inventory-out: the file the managed Ansible inventory is written to"
            + orState(storeOnly));
      }
    } else if (!"files".equals(provider) && !terraform()) {
      throw new IllegalArgumentException("unknown --provider '" + provider
          + "' (this tool supports: files, ansible, k8s, terraform)");
    } else if (target == null) {
      throw new IllegalArgumentException("missing --target: " + what + orState(storeOnly));
    }
    // A rule another provider would silently ignore must not look like it hid a value.
    if (!"files".equals(provider) && !structured.isEmpty()) {
      throw new IllegalArgumentException("--structured is for --provider files");
    }
    for (String rule : sensitive) {
      if ("ansible".equals(provider) ? !rule.matches("[A-Za-z0-9_*]+") : !"files".equals(provider)) {
        throw new IllegalArgumentException("--sensitive '" + rule + "': " + ("ansible".equals(provider)
            ? "with --provider ansible, give the name of a variable whose value is secret ('*' as a wildcard:"
                + " db_password, '*_token')"
            : "is for --provider files (GLOB:POINTER) and --provider ansible (a variable name)"));
      }
    }
    // An empty path would be the working directory: never a target or a store by accident.
    if (target != null && target.toString().isBlank()) {
      throw new IllegalArgumentException("--target is empty: give " + what);
    }
    for (String f : varFiles) {
      if (f.isBlank()) {
        throw new IllegalArgumentException("--var-file is empty: give a value or leave the flag out");
      }
      // an absolute one is on this host, so checked now; a relative one is the revision's, checked when it is read
      if (!storeOnly && Path.of(f).isAbsolute() && !Files.isRegularFile(Path.of(f))) {
        Path p = Path.of(f);
        throw new IllegalArgumentException("--var-file " + f + ": " + (Files.isDirectory(p) ? "is a directory"
            : Files.exists(p) ? "is not a regular file (a FIFO or a device, say)" : "no such file")
            + " (an absolute path is a file on this host)");
      }
    }
    for (String v : vars) {
      if (v.indexOf('=') <= 0) {
        throw new IllegalArgumentException("--var '" + v + "': want NAME=VALUE");
      }
    }
    java.util.Set<String> plain = new java.util.HashSet<>();
    vars.forEach(v -> plain.add(v.substring(0, v.indexOf('='))));
    for (String v : sensitiveVars) {
      // the flag's value is a secret: never echoed, only the name before '=' (if there is one)
      if (v.indexOf('=') <= 0) {
        throw new IllegalArgumentException("--sensitive-var: want NAME=VALUE (the value is not shown)");
      }
      String name = v.substring(0, v.indexOf('='));
      if (plain.contains(name)) {
        throw new IllegalArgumentException("--sensitive-var " + name + "=...: the variable is also set by --var " + name
            + "; give it once, with --sensitive-var if its value is secret");
      }
    }
    if (state != null && state.toString().isBlank()) {
      throw new IllegalArgumentException("--state is empty: give the state store's directory"
          + (kubernetes() ? "" : ", or leave the flag out for <target>/.gitops"));
    }
    if (username != null && !storeOnly && System.getenv("GITOPS_PASSWORD") == null) {
      throw new IllegalArgumentException("--username needs the password in the environment variable GITOPS_PASSWORD");
    }
    if (username != null && sshKey != null) {
      throw new IllegalArgumentException("--username (HTTPS) and --ssh-key (SSH) cannot be used together");
    }
    requireVerifyFlagsFit(storeOnly);
    if (!storeOnly) {
      requireSshFlagsFit();
    }
    requireStateNotAFile();
    Path dir = targetDir();
    if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new IllegalArgumentException("ansible".equals(provider)
          ? "--inventory-out " + inventoryOut + ": " + dir + " is a file, not a directory"
          : "--target " + dir + " is a file, not a directory");
    }
    if ("ansible".equals(provider) && !storeOnly) {
      // a device, a FIFO, a directory or a link there would be replaced by the first write (a rename over it)
      dev.gitops.ansible.AnsibleProvider.notARegularFile(inventoryOut).ifPresent(kind -> {
        throw new IllegalArgumentException("--inventory-out " + inventoryOut + " is " + kind + ", not a regular"
            + " file: the managed inventory is written by renaming a new file over it, so it is refused; give a"
            + " regular file or a path that does not exist yet");
      });
    }
    if (dir != null && !"ansible".equals(provider) && Files.isSymbolicLink(dir) && !Files.exists(dir)) {
      // a link to a volume not mounted, say: never read as an empty target, nor made on the way
      String to;
      try {
        to = Files.readSymbolicLink(dir).toString();
      } catch (java.io.IOException e) {
        to = "?";
      }
      throw new IllegalArgumentException("--target " + dir + " is a symbolic link to '" + to
          + "', which does not exist");
    }
    if (!storeOnly && !"ansible".equals(provider)) {
      requireTargetOutsideRepository(dir);
      requireTargetOutsideStore(dir);
    }
    if (!storeOnly) {
      requireStoreOutsideRepository();
    }
  }

  /**
   * A {@code --target} that is, or lies inside, the {@code --state} directory (links resolved) is
   * refused naming both flags: Git content written there could rewrite the store. The provider
   * refuses it too, but in its words, naming neither flag ("the excluded directory").
   */
  private void requireTargetOutsideStore(Path dir) {
    if (dir == null || state == null) {
      return;  // the default store is inside the target, never the reverse
    }
    Path store = state.toAbsolutePath().normalize();
    if (PlanCommand.resolved(dir).startsWith(PlanCommand.resolved(store))) {
      throw new IllegalArgumentException("--target " + dir + " is, or is inside, --state " + store + ": Git content"
          + " written there could rewrite the state store; give --state a directory outside the target (or leave"
          + " it out for <target>/.gitops)");
    }
  }

  /**
   * The state store is not read by the sync as the repository's files ({@link
   * LocalRepository#storeConflict}): in the directory the sync reads, once committed, its records
   * and secret key would be read back and copied into the target; in the Git directory it would be
   * written among Git's files. A command that only reads the store ({@code history}) is not refused.
   */
  private void requireStoreOutsideRepository() {
    Path store = stateDir();
    String why = LocalRepository.storeConflict(repo, path, store);
    if (why == null) {
      return;
    }
    throw new IllegalArgumentException(state != null ? "--state " + store + " " + why
        : "the state store " + store + " (the default: " + ("ansible".equals(provider) ? "beside --inventory-out"
            : "in --target") + "; --state chooses another) " + why);
  }

  /**
   * {@code --vault-password-file} is a file this process can read: else the sync would fail later,
   * at its first vault value, in Ansible's or the parser's words rather than the flag's.
   */
  private void requireReadableVaultPasswordFile() {
    requireReadableFile("--vault-password-file", vaultPasswordFile, "the file holding the Ansible vault password");
  }

  /**
   * {@code file}, given as {@code flag}, is a file this process can read; else one line naming the
   * flag, the file and what is wrong, asking for {@code what}: the library would say it later, in
   * its words (an SSH key "does not exist or is not a file", a known_hosts file only once the server
   * answered), naming no flag.
   */
  private static void requireReadableFile(String flag, Path file, String what) {
    if (file.toString().isBlank()) {
      throw new IllegalArgumentException(flag + " is empty: give " + what);
    }
    Path f = file.toAbsolutePath().normalize();
    String problem = !Files.exists(f) ? "no such file" : Files.isDirectory(f) ? "is a directory, not a file"
        : !Files.isReadable(f) ? "cannot be read by this process (check its permissions)" : null;
    if (problem != null) {
      throw new IllegalArgumentException(flag + " " + f + ": " + problem + "; give " + what);
    }
  }

  /**
   * {@code --verify-mode} goes with {@code --verify-key-ring} and names a mode; the key ring is a
   * file this process can read that holds OpenPGP public keys (not checked for a command that reads
   * only the store). Said naming the flag before anything is created: the source would refuse a
   * file it cannot read only when the session is opened, after the state directory is made, and
   * without naming the flag.
   */
  private void requireVerifyFlagsFit(boolean storeOnly) {
    if (verifyMode != null && verifyKeyRing == null) {
      throw new IllegalArgumentException("--verify-mode " + verifyMode + " needs --verify-key-ring FILE, the OpenPGP"
          + " public keys the signatures are checked against");
    }
    if (verifyKeyRing == null) {
      return;  // nothing loaded or read: no signature is required
    }
    if (!signatureMode().admits(ref)) {
      throw new IllegalArgumentException("--verify-mode " + verifyMode + " checks the signature of the annotated tag the"
          + " commit is read through, and --ref " + ref + " is a commit id: give the name of a signed tag (git tag -s)"
          + " or a version range over them, or --verify-mode head to check the commit's own signature");
    }
    if (storeOnly) {
      return;
    }
    requireReadableFile("--verify-key-ring", verifyKeyRing, "the file of trusted OpenPGP public keys"
        + " (gpg --export --armor KEYID... > keys.asc)");
    Path f = verifyKeyRing.toAbsolutePath().normalize();
    // read as the source will read it (a few milliseconds): a file that holds no key ring (a GnuPG
    // keybox, a private key, text) is refused here too, before a state directory is made
    java.util.ServiceLoader.load(CommitSignatures.class, CommitSignatures.class.getClassLoader()).findFirst()
        .ifPresent(signatures -> {
          try {
            signatures.load(f);
          } catch (SourceException e) {
            throw new IllegalArgumentException("--verify-key-ring " + f + ": " + e.getMessage(), e);
          }
        });
  }

  /**
   * A local {@code --repo}'s own files are never the target, nor do they hold it or lie in it
   * ({@link LocalRepository#conflict}): for Terraform too, whose working directory holds the state
   * (secrets in clear), {@code .terraform/} and a copy of the configuration.
   */
  private void requireTargetOutsideRepository(Path dir) {
    String why = LocalRepository.conflict(repo, path, dir);
    if (why != null) {
      throw new IllegalArgumentException("--target " + dir + " " + why);
    }
  }

  /** What a command that reads only the store may give instead of the live side's flag: its store. */
  private static String orState(boolean storeOnly) {
    return storeOnly ? " (or --state DIR, the state store to read)" : "";
  }

  /**
   * Refuses SSH flags that do not fit {@code --repo} in the flags' words, before anything is
   * created: an SSH remote needs {@code --ssh-key} and {@code --known-hosts} (or {@code
   * --accept-unknown-hosts}); {@code --ssh-key} is for SSH remotes only. The source refuses the
   * same, but in its builder's terms ({@code Credentials.sshKey}, {@code knownHosts(file)}), which
   * name no flag.
   */
  private void requireSshFlagsFit() {
    String shown = GitUrls.display(repo);
    if (sshRepo()) {
      if (sshKey == null) {
        throw new IllegalArgumentException("--repo " + shown + " is an SSH remote: give its private key with --ssh-key"
            + " FILE (a passphrase in GITOPS_SSH_PASSPHRASE) and the server's host key with --known-hosts FILE (or"
            + " --accept-unknown-hosts to accept a host not listed)"
            + (username != null ? "; --username is for HTTPS" : ""));
      }
      if (knownHosts == null && !acceptUnknownHosts) {
        throw new IllegalArgumentException("--repo " + shown + " is an SSH remote: give --known-hosts FILE, listing the"
            + " server's host key (or --accept-unknown-hosts to accept a host not listed; a changed key is always"
            + " refused)");
      }
      requireReadableFile("--ssh-key", sshKey, "the SSH private key file (its passphrase, if any, in"
          + " GITOPS_SSH_PASSPHRASE)");
      if (knownHosts != null) {
        // also with --accept-unknown-hosts: a file given that is not there is a mistake, never "no host is known"
        requireReadableFile("--known-hosts", knownHosts, "the known_hosts file listing the server's host key (as"
            + " ssh-keyscan prints it), or leave the flag out with --accept-unknown-hosts");
      }
    } else if (sshKey != null) {
      throw new IllegalArgumentException("--ssh-key is for SSH remotes (ssh://... or user@host:path), not --repo " + shown
          + (shown.startsWith("http") ? ": over HTTPS give --username (password in GITOPS_PASSWORD) or GITOPS_TOKEN"
              : ""));
    }
  }

  /** Whether {@code --repo} is an SSH remote as the source reads it: {@code ssh://...}, or git's {@code user@host:path}. */
  private boolean sshRepo() {
    try {
      org.eclipse.jgit.transport.URIish u = new org.eclipse.jgit.transport.URIish(Session.repoUrl(repo));
      String scheme = u.getScheme();
      return scheme == null ? u.getHost() != null : scheme.toLowerCase(java.util.Locale.ROOT).contains("ssh");
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return false;  // no URL: the source refuses it, naming --repo, when the session is opened
    }
  }

  /**
   * The credentials the flags and the environment give: an SSH key (--ssh-key, passphrase from
   * GITOPS_SSH_PASSPHRASE), HTTPS basic (--username, password from GITOPS_PASSWORD), an HTTPS
   * token (GITOPS_TOKEN), or none.
   */
  dev.gitops.core.source.Credentials credentials() {
    if (sshKey != null) {
      String passphrase = System.getenv("GITOPS_SSH_PASSPHRASE");
      return passphrase == null ? dev.gitops.core.source.Credentials.sshKey(sshKey)
          : dev.gitops.core.source.Credentials.sshKey(sshKey, passphrase.toCharArray());
    }
    if (username != null) {
      return dev.gitops.core.source.Credentials.basic(username, System.getenv("GITOPS_PASSWORD"));
    }
    String token = System.getenv("GITOPS_TOKEN");
    return token == null || token.isEmpty() ? null : dev.gitops.core.source.Credentials.token(token);
  }
}

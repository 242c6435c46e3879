package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Documents;
import dev.gitops.core.internal.Durations;
import dev.gitops.core.internal.fs.Executables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ansible-playbook --syntax-check} over the playbook directory as the decoder read it from
 * Git, so that a playbook, role or decommission playbook Ansible cannot load fails the plan rather
 * than the run. The files are written to a temporary directory of their own (removed when the check
 * ends, whatever its end), and one process checks the playbook and the decommission playbook
 * together, bounded in time. The decoder turns a {@link Problem} into its decode error.
 *
 * <p>What cannot be checked is skipped with a warning, never made a failure: no {@code
 * ansible-playbook} (a machine that only plans), a check past its time, a process that ends without
 * Ansible's {@code ERROR!}. The run still reports such problems.
 *
 * <p>A check remembers the last {@value #REMEMBERED} sets of files Ansible loaded (with the
 * executable and the vault password file's content): the same files are not checked again, so a
 * commit that changes only the inventory starts no process here. What failed or was skipped is
 * checked again at the next decode.
 */
public final class SyntaxCheck {

  private static final Logger LOG = LoggerFactory.getLogger(SyntaxCheck.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The longest a check may take (shorter when the provider's run timeout is). */
  public static final Duration LIMIT = Duration.ofSeconds(60);

  /** Where Ansible says a loading error is, in every message that has a place. */
  private static final Pattern WHERE =
      Pattern.compile("The error appears to be in '([^']*)': line (\\d+)(?:, column (\\d+))?");

  /** How many sets of files that loaded are remembered. */
  static final int REMEMBERED = 8;

  /** The longest message kept (Ansible's text can carry a whole traceback). */
  private static final int MAX_MESSAGE = 1500;

  /**
   * What Ansible refused.
   *
   * @param file the repository path of the file at fault (the playbook when Ansible names none of the
   *     repository's)
   * @param line its line, or 0 when Ansible gives none
   * @param message Ansible's message on one line, its paths the repository's
   * @param fix what to fix: the repository, or (for a vault password file Ansible cannot use) the
   *     provider's option
   */
  public record Problem(String file, int line, String message, String fix) {
    /** A problem of the repository's files. */
    public Problem(String file, int line, String message) {
      this(file, line, message, IN_THE_REPOSITORY);
    }
  }

  /** What to fix when Ansible cannot load the repository's files. */
  public static final String IN_THE_REPOSITORY = "fix it in the repository";

  private final String binary;
  private final Map<String, String> environment;
  private final Path vaultPasswordFile;
  private final JsonNode extraVars;
  private final Duration timeout;
  /** Digests of what loaded ({@link #digest}), the most recently checked last; guarded by itself. */
  private final Map<String, Boolean> loaded = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED;
    }
  };

  /**
   * A check with the provider's executable, environment, vault password file (or null) and extra
   * variables, taking at most {@link #LIMIT} or {@code runTimeout}, whichever is shorter.
   */
  public SyntaxCheck(String binary, Map<String, String> environment, Path vaultPasswordFile, JsonNode extraVars,
      Duration runTimeout) {
    this.binary = Objects.requireNonNull(binary, "binary");
    this.environment = Map.copyOf(environment);
    this.vaultPasswordFile = vaultPasswordFile;
    this.extraVars = Objects.requireNonNull(extraVars, "extraVars");
    this.timeout = runTimeout.compareTo(LIMIT) < 0 ? runTimeout : LIMIT;
  }

  /** Whether a vault password file is given to the check (and to the runs). */
  public boolean hasVaultPassword() {
    return vaultPasswordFile != null;
  }

  /**
   * Checks the playbook and the decommission playbook of {@code bundle}, unless the same files
   * loaded before.
   *
   * @return what Ansible refused, or empty when it loads them (or the check was skipped)
   */
  public Optional<Problem> check(PlaybookBundle bundle) {
    Path program;
    try {
      program = Executables.locate("ansible-playbook", binary, System.getenv("PATH"), PlaybookRunner.INSTALL);
    } catch (Executables.NotFound e) {
      LOG.warn("syntax check of {} skipped: {}; a playbook Ansible cannot load fails only when it runs",
          bundle.playbook(), e.getMessage());
      return Optional.empty();
    }
    String digest = digest(program, bundle);
    synchronized (loaded) {
      if (loaded.get(digest) != null) {
        LOG.debug("syntax check of {}: the same files loaded before", bundle.playbook());
        return Optional.empty();
      }
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("gitops-ansible-syntax-");
    } catch (IOException e) {
      LOG.warn("syntax check of {} skipped: cannot make a temporary directory: {}", bundle.playbook(), e.toString());
      return Optional.empty();
    }
    try {
      return checkIn(program, dir, bundle, digest);
    } catch (IOException e) {
      LOG.warn("syntax check of {} skipped: {}", bundle.playbook(), e.toString());
      return Optional.empty();
    } finally {
      BundleDirectory.deleteTree(dir);
      if (Files.exists(dir)) {
        LOG.warn("cannot remove the syntax check's temporary directory {}", dir);
      }
    }
  }

  private Optional<Problem> checkIn(Path program, Path dir, PlaybookBundle bundle, String digest) throws IOException {
    Path src = Files.createDirectories(dir.resolve("src"));
    BundleDirectory.writeFiles(src, bundle.files());
    Path playbook = src.resolve(bundle.playbook());
    List<String> args = new ArrayList<>(List.of(program.toString(), "--syntax-check", "-i", "localhost,"));
    if (extraVars.size() > 0) {
      Path extra = dir.resolve("extra-vars.json");
      ManagedInventory.write(extra, JSON.writeValueAsBytes(extraVars));
      args.add("-e");
      args.add("@" + extra);
    }
    if (vaultPasswordFile != null) {
      args.add("--vault-password-file");
      args.add(vaultPasswordFile.toAbsolutePath().toString());
    }
    args.add("--");
    args.add(playbook.toString());
    if (bundle.decommission() != null) {
      args.add(src.resolve(bundle.decommission()).toString());
    }
    Path output = dir.resolve("output");
    // run where the runs are run from, the playbook's directory: its ansible.cfg applies alike
    ProcessBuilder pb = new ProcessBuilder(args).directory(playbook.getParent().toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> env = pb.environment();
    env.putAll(environment);
    if (!environment.containsKey("ANSIBLE_LOCAL_TEMP")) {
      env.put("ANSIBLE_LOCAL_TEMP", Files.createDirectories(dir.resolve("local-tmp")).toString());
    }
    if (!environment.containsKey("TMPDIR")) {
      env.put("TMPDIR", Files.createDirectories(dir.resolve("tmp")).toString());
    }
    PlaybookRunner.utf8Locale(env);
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_FORCE_COLOR", "0");
    env.put("ANSIBLE_RETRY_FILES_ENABLED", "false");
    // its "-i localhost," is read by the host_list inventory plugin: a plugin list without it (the
    // environment's, an ansible.cfg's) with unparsed_is_failed had the check fail the decode with
    // "ERROR! No inventory was parsed", blamed on the playbook
    env.put("ANSIBLE_INVENTORY_ENABLED", "host_list");
    Process p = pb.start();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        PlaybookRunner.stop(p, PlaybookRunner.grace(timeout, null));
        LOG.warn("syntax check of {} did not finish within {}: stopped and skipped; a playbook Ansible cannot"
            + " load fails only when it runs", bundle.playbook(), Durations.human(timeout));
        return Optional.empty();
      }
    } catch (InterruptedException e) {
      // the plan is being abandoned: stop the check, and let the caller see the interrupt
      PlaybookRunner.stop(p, PlaybookRunner.grace(timeout, null));
      Thread.currentThread().interrupt();
      LOG.warn("syntax check of {} interrupted: skipped", bundle.playbook());
      return Optional.empty();
    }
    int code = p.exitValue();
    if (code == 0) {
      LOG.debug("syntax check of {}: ok", bundle.playbook());
      synchronized (loaded) {
        loaded.put(digest, Boolean.TRUE);
      }
      return Optional.empty();
    }
    String text = tail(output);
    int error = text.indexOf("ERROR!");
    if (error < 0) {
      // not Ansible's own report of a playbook it cannot load: the tool, not the playbook, is at fault
      LOG.warn("syntax check of {} skipped: {} exited with {} without an ERROR! line: {}", bundle.playbook(),
          program, code, oneLine(text));
      return Optional.empty();
    }
    return Optional.of(problem(text.substring(error), src, bundle));
  }

  /**
   * What a check's outcome depends on besides this check's fixed settings: the executable, the
   * bundle's files (its digest leaves out the decommission playbook, added here) and the vault
   * password file's content (a changed password may no longer decrypt what the playbooks read;
   * unreadable or not a regular file, its path alone).
   */
  private String digest(Path program, PlaybookBundle bundle) {
    MessageDigest md = Documents.sha256();
    md.update((program + "\0" + bundle.digest() + "\0" + bundle.decommission() + "\0")
        .getBytes(StandardCharsets.UTF_8));
    if (bundle.decommission() != null) {
      md.update(Documents.sha256().digest(bundle.files().get(bundle.decommission())));
    }
    if (vaultPasswordFile != null) {
      md.update(vaultPasswordFile.toString().getBytes(StandardCharsets.UTF_8));
      try {
        // a regular file only: a pipe would block here (the check itself reports what it cannot read)
        if (Files.isRegularFile(vaultPasswordFile)) {
          md.update(Documents.sha256().digest(Files.readAllBytes(vaultPasswordFile)));
        }
      } catch (IOException e) {
        LOG.debug("syntax check: cannot read the vault password file {} ({}); its path alone names the check",
            vaultPasswordFile, e.toString());
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Ansible's report as a problem at a repository file and line. */
  private Problem problem(String report, Path src, PlaybookBundle bundle) {
    // the offending line and its caret are Ansible's picture of the place the location names already
    int picture = report.indexOf("The offending line appears to be:");
    String message = oneLine(repositoryPaths(picture < 0 ? report : report.substring(0, picture), src));
    if (!hasVaultPassword() && (message.contains("no vault secrets") || message.contains("vault password"))) {
      message += " (no vault password file is given: set by the CLI's --vault-password-file, the agent's"
          + " vaultPasswordFile: or AnsibleProvider.Builder.vaultPasswordFile)";
    }
    boolean undecrypted = hasVaultPassword() && message.contains("no vault secrets were found that could decrypt");
    if (undecrypted) {
      // Ansible names the file it could not decrypt ("... could decrypt) on vars/secret.yml"), not the password's
      message += " (the vault password in the vault password file " + vaultPasswordFile + ", given by"
          + " vaultPasswordFile, the CLI's --vault-password-file, the agent's vaultPasswordFile:, does not decrypt it)";
    }
    Matcher m = WHERE.matcher(message);
    boolean placed = m.find() && bundle.files().containsKey(m.group(1));
    if (message.length() > MAX_MESSAGE) {
      message = message.substring(0, MAX_MESSAGE) + "…";
    }
    // Ansible names the vault password file it cannot use ("The vault password file … was not
    // found"): a file of this machine's configuration, which no commit to the repository fixes
    String fix = undecrypted ? "encrypt it again with the password in " + vaultPasswordFile + " (ansible-vault rekey,"
            + " or encrypt_string for a !vault value), or give the password it was encrypted with"
        : hasVaultPassword() && !placed && message.contains(vaultPasswordFile.toAbsolutePath().toString())
        ? "fix the vault password file " + vaultPasswordFile + " (given by vaultPasswordFile, the CLI's"
            + " --vault-password-file, the agent's vaultPasswordFile:), not the repository"
        : IN_THE_REPOSITORY;
    return placed ? new Problem(m.group(1), Integer.parseInt(m.group(2)), message, undecrypted ? fix : IN_THE_REPOSITORY)
        : new Problem(bundle.playbook(), 0, message, fix);
  }

  /** {@code text} with every path into the copy as the repository's (the copy's links resolved too). */
  private static String repositoryPaths(String text, Path src) {
    String out = text;
    List<String> roots = new ArrayList<>(List.of(src.toAbsolutePath().normalize().toString()));
    try {
      roots.add(src.toRealPath().toString());  // Ansible resolves links in the paths it loads
    } catch (IOException e) {
      // the path as given is replaced still
    }
    for (String root : roots) {
      out = out.replace(root + "/", "");
    }
    return out;
  }

  /** Lines stripped and joined with single spaces. */
  private static String oneLine(String text) {
    StringBuilder sb = new StringBuilder();
    for (String l : text.split("\\R")) {
      String s = l.strip();
      if (!s.isEmpty()) {
        sb.append(sb.length() == 0 ? "" : " ").append(s);
      }
    }
    return sb.toString();
  }

  private static String tail(Path file) {
    try {
      return PlaybookRunner.lastBytes(file, 16_000);
    } catch (IOException e) {
      LOG.debug("cannot read the syntax check's output {}: {}", file, e.toString());
      return "";
    }
  }
}

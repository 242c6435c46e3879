package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.terraform.TerraformException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The per-target working directory: the root module Terraform runs in, with the configuration
 * from Git materialized into it, Terraform's own files ({@code .terraform/}, the lock file, the
 * local state), and this provider's files under {@code .gitops-terraform/} (owner-only): the list of files
 * it materialized, the cached init decision, the key plan ids are made with, saved plan files.
 *
 * <p>Only files this provider wrote are ever removed: a file dropped from Git is deleted if the
 * list says it was materialized from Git, anything else in the directory is left alone.
 */
public final class WorkingDirectory {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WorkingDirectory.class);

  private static final String OWN = ".gitops-terraform";
  /** The name of the owner-only file the provider's variables are handed over in. */
  public static final String VARIABLES_FILE = "variables.tfvars.json";
  /** The owner-only file the provider's values of list, map, set, object and tuple variables go in, as HCL. */
  public static final String HCL_VARIABLES_FILE = "variables-hcl.tfvars";
  /** The variable on each line of the HCL variable file written last, in its line order. */
  private volatile List<String> hclVariables = List.of();
  private static final String MANIFEST = "files.json";
  private static final String INIT = "init.digest";
  private static final String KEY = "key";

  private final Path root;

  /** The working directory {@code root} (created, with {@code .gitops-terraform/}, when missing). */
  public WorkingDirectory(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The directory Terraform runs in. */
  public Path root() {
    return root;
  }

  /**
   * This provider's own directory, created owner-only when missing; the working directory too, when
   * missing: Terraform writes the local state there ({@code terraform.tfstate}, every sensitive value
   * in plain text) readable by all, as its process's umask allows. A directory that exists keeps the
   * protection it has (it is its owner's to set).
   */
  public Path own() {
    Path own = root.resolve(OWN);
    try {
      // both owner-only when made here (one made meanwhile by another process is used as it is)
      DurableFiles.createPrivateDirectory(root);
      DurableFiles.createPrivateDirectory(own);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the working directory " + own + ": " + e.getMessage(), e);
    }
    return own;
  }

  /** Where saved plan files go. */
  public Path plans() {
    Path p = own().resolve("plans");
    try {
      Files.createDirectories(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + p + ": " + e.getMessage(), e);
    }
    return p;
  }

  /**
   * Writes {@code files} (path relative to the root module -> content) where their content
   * differs, and removes files an earlier call wrote that are no longer among them. Returns
   * whether anything changed.
   *
   * @throws TerraformException naming the path when one leaves the working directory or enters a
   *     directory Terraform or this provider keeps
   */
  public boolean materialize(SortedMap<String, String> files) {
    checkPaths(files.keySet());
    boolean changed = false;
    SortedMap<String, String> previous = manifest();
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path target = root.resolve(f.getKey()).normalize();
      byte[] bytes = f.getValue().getBytes(StandardCharsets.UTF_8);
      try {
        if (Files.isRegularFile(target) && java.util.Arrays.equals(Files.readAllBytes(target), bytes)) {
          continue;
        }
        Files.createDirectories(target.getParent());
        write(target, bytes);
        changed = true;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the configuration file " + target + ": " + e.getMessage(), e);
      }
    }
    for (String gone : previous.keySet()) {
      if (!files.containsKey(gone)) {
        Path p = root.resolve(gone).normalize();
        try {
          changed |= Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot remove " + p + ", dropped from Git: " + e.getMessage(), e);
        }
        removeEmptyParents(p);
      }
    }
    writeManifest(files);
    return changed;
  }

  /**
   * Removes the directories above {@code removed} that are empty now, up to the root: a local
   * module dropped from Git leaves no empty directory behind. One that holds anything (Terraform's
   * or someone's) stays.
   */
  private void removeEmptyParents(Path removed) {
    for (Path dir = removed.getParent(); dir != null && !dir.equals(root) && dir.startsWith(root);
        dir = dir.getParent()) {
      try {
        Files.delete(dir);
      } catch (java.nio.file.DirectoryNotEmptyException | java.nio.file.NoSuchFileException e) {
        return;  // not empty (or gone already): it, and everything above it, stays
      } catch (IOException e) {
        LOG.debug("cannot remove the emptied directory {}: {}", dir, e.toString());
        return;
      }
    }
  }

  /** Whether this provider ever materialized a configuration here (its list of written files exists). */
  public boolean managed() {
    return Files.isRegularFile(root.resolve(OWN).resolve(MANIFEST));
  }

  /** Directories of the working directory that hold no configuration: Terraform's, this provider's, the CLI's store. */
  private static final java.util.Set<String> NOT_CONFIGURATION = java.util.Set.of(OWN, ".terraform", ".gitops",
      "terraform.tfstate.d", ".git");

  /**
   * Whether Terraform or OpenTofu reads a file of this name as configuration ({@link
   * InitInputs#isConfiguration}), variable values or tests by itself.
   */
  static boolean isConfigurationName(String name) {
    return InitInputs.isConfiguration(name) || name.endsWith(".tfvars") || name.endsWith(".tfvars.json")
        || name.endsWith(".tftest.hcl") || name.endsWith(".tofutest.hcl");
  }

  /**
   * The configuration files in the working directory ({@code *.tf}, {@code *.tf.json}, {@code
   * *.tofu}, {@code *.tofu.json}, {@code *.tfvars(.json)}, at any depth outside Terraform's and this
   * provider's directories) that this provider did not write: relative paths, sorted.
   */
  public SortedMap<String, String> unwrittenConfiguration() {
    SortedMap<String, String> out = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return out;
    }
    SortedMap<String, String> written = manifest();
    try {
      Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
        @Override
        public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes a) {
          return !d.equals(root) && NOT_CONFIGURATION.contains(d.getFileName().toString())
              ? java.nio.file.FileVisitResult.SKIP_SUBTREE : java.nio.file.FileVisitResult.CONTINUE;
        }

        @Override
        public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
          String rel = root.relativize(f).toString().replace('\\', '/');
          if (isConfigurationName(f.getFileName().toString()) && !written.containsKey(rel)) {
            out.put(rel, "");
          }
          return java.nio.file.FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the working directory " + root + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** A record this provider keeps under {@code .gitops-terraform/} (a JSON object), empty when there is none. */
  public ObjectNode record(String name) {
    Path p = own().resolve(name);
    if (!Files.isRegularFile(p)) {
      return PlanReader.JSON.createObjectNode();
    }
    return readRecord(p);
  }

  /**
   * The record in {@code p} (one of gitops's, here or a copy of it elsewhere): a JSON object, or a
   * {@link TerraformException} saying to restore or remove it; never read as an empty record, which
   * would turn off the checks it is kept for.
   */
  public static ObjectNode readRecord(Path p) {
    try {
      JsonNode n = PlanReader.JSON.readTree(p.toFile());
      if (n == null || !n.isObject()) {
        throw new TerraformException("the record " + p + " is not a JSON object; restore or remove it");
      }
      return (ObjectNode) n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the record " + p + ": " + e.getMessage(), e);
    }
  }

  /** The bytes a record is written as, here ({@link #writeRecord}) or as a copy elsewhere. */
  public static byte[] recordBytes(JsonNode content) throws IOException {
    return PlanReader.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(content);
  }

  /** Whether the record {@code name} exists. */
  public boolean hasRecord(String name) {
    return Files.isRegularFile(own().resolve(name));
  }

  /** Writes the record {@code name} (owner-only, atomically). */
  public void writeRecord(String name, JsonNode content) {
    try {
      write(own().resolve(name), recordBytes(content));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the record " + own().resolve(name) + ": " + e.getMessage(), e);
    }
  }

  /** The files the last {@link #materialize} wrote, with their content as written. */
  public SortedMap<String, String> materialized() {
    SortedMap<String, String> out = new TreeMap<>();
    for (String path : manifest().keySet()) {
      Path p = root.resolve(path).normalize();
      try {
        if (Files.isRegularFile(p)) {
          out.put(path, Files.readString(p, StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /**
   * The modules {@code init} installed from outside the working directory, as Terraform resolved
   * them ({@code .terraform/modules/modules.json}): "{@code <module key> (source "<source>")}" for each
   * whose directory is a host path or leaves the root, or whose source is a path of the host that
   * init copied in ({@link ConfigDecoder#hostSource}). Terraform reads such a module from this host
   * at every plan, not from the revision. Empty when there is no record (init did not run).
   */
  public java.util.List<String> modulesOutside() {
    Path p = root.resolve(".terraform").resolve("modules").resolve("modules.json");
    java.util.List<String> out = new java.util.ArrayList<>();
    if (!Files.isRegularFile(p)) {
      return out;
    }
    try {
      for (JsonNode m : PlanReader.JSON.readTree(p.toFile()).path("Modules")) {
        String d = m.path("Dir").asText("");
        if (d.isEmpty()) {
          continue;
        }
        Path dir = root.resolve(d.replace('\\', '/')).normalize();
        // a module copied in from the host (file:///..., git::file:///...) is installed under .terraform/ but is the host's
        if (!dir.startsWith(root) || ConfigDecoder.hostSource(m.path("Source").asText(""))) {
          out.add(m.path("Key").asText("") + " (source \"" + m.path("Source").asText("") + "\")");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read terraform's list of installed modules " + p + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** The dependency lock file's content, "" when there is none. */
  public String lockFile() {
    Path p = root.resolve(InitInputs.LOCK_FILE);
    try {
      return Files.isRegularFile(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses configuration file paths that could not be materialized: ones leaving the working
   * directory or entering a directory Terraform, this provider or a gitops state store keeps.
   *
   * @throws TerraformException naming the first such path
   */
  public void checkPaths(java.util.Collection<String> paths) {
    for (String path : paths) {
      check(path);
    }
  }

  private void check(String path) {
    Path p = root.resolve(path).normalize();
    String first = root.relativize(p).getName(0).toString();
    if (!p.startsWith(root) || p.equals(root) || first.equals(OWN) || first.equals(".terraform")
        || path.startsWith("/") || path.contains("\\")) {
      throw new TerraformException("the configuration file '" + path + "' would be written at " + p
          + ", outside the working directory " + root + " or into a directory Terraform or this provider keeps");
    }
    for (Path segment : root.relativize(p)) {
      if (segment.toString().equals(".gitops")) {
        // the state store of the CLI (<target>/.gitops/) or of a target nested in this one
        throw new TerraformException("the configuration file '" + path + "' would be written at " + p
            + ", inside a gitops state store (a directory named .gitops); such files are refused");
      }
    }
  }

  private SortedMap<String, String> manifest() {
    Path p = own().resolve(MANIFEST);
    SortedMap<String, String> out = new TreeMap<>();
    if (!Files.isRegularFile(p)) {
      return out;
    }
    try {
      for (JsonNode n : PlanReader.JSON.readTree(p.toFile())) {
        String path = n.asText();
        check(path);
        out.put(path, "");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the list of materialized files " + p + ": " + e.getMessage(), e);
    }
    return out;
  }

  private void writeManifest(SortedMap<String, String> files) {
    ArrayNode list = PlanReader.JSON.createArrayNode();
    new TreeSet<>(files.keySet()).forEach(list::add);
    try {
      write(own().resolve(MANIFEST), PlanReader.JSON.writeValueAsBytes(list));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the list of materialized files: " + e.getMessage(), e);
    }
  }

  /** The second line of the init record when that init made no {@code .terraform/}: its absence is as init left it. */
  private static final String NO_DATA_DIR = "no-data-dir";

  /**
   * The init digest recorded after the last successful init, or "" when there is none, or when
   * {@code .terraform/}, which that init made, is gone. An init that had nothing to install
   * (built-in providers only, no modules, the local backend) makes no {@code .terraform/}, so
   * its absence then does not call for another.
   */
  public String initDigest() {
    Path p = own().resolve(INIT);
    try {
      if (!Files.isRegularFile(p)) {
        return "";
      }
      List<String> lines = Files.readString(p, StandardCharsets.UTF_8).strip().lines().map(String::strip).toList();
      if (lines.isEmpty()) {
        return "";
      }
      boolean madeNone = lines.size() > 1 && lines.get(1).equals(NO_DATA_DIR);
      return madeNone || Files.isDirectory(root.resolve(".terraform")) ? lines.get(0) : "";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
    }
  }

  /** Records the init digest after a successful init, and whether that init made {@code .terraform/}. */
  public void recordInit(String digest) {
    String record = Files.isDirectory(root.resolve(".terraform")) ? digest : digest + "\n" + NO_DATA_DIR;
    try {
      write(own().resolve(INIT), record.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the init decision: " + e.getMessage(), e);
    }
  }

  /** This working directory's secret key for plan ids, made on first use and kept owner-only. */
  public byte[] key() {
    Path p = own().resolve(KEY);
    try {
      if (!Files.isRegularFile(p)) {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        write(p, k);
      }
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the plan id key " + p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the variables as a JSON variable file under {@code .gitops-terraform/} (owner-only), so that
   * their values never appear on a command line. Returns its path.
   */
  public Path writeVariables(SortedMap<String, String> variables) {
    ObjectNode o = PlanReader.JSON.createObjectNode();
    variables.forEach(o::put);
    Path p = own().resolve(VARIABLES_FILE);
    try {
      write(p, PlanReader.JSON.writeValueAsBytes(o));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the variable file " + p + ": " + e.getMessage(), e);
    }
    return p;
  }

  /**
   * Writes values of variables of a complex type as Terraform's {@code -var} takes them, HCL
   * expressions ({@code ["a", "b"]}, {@code {a = 1}}), into an owner-only variable file. Returns its path.
   */
  public Path writeHclVariables(SortedMap<String, String> variables) {
    StringBuilder sb = new StringBuilder();
    List<String> lines = new java.util.ArrayList<>();
    variables.forEach((k, v) -> {
      sb.append(k).append(" = ").append(v).append('\n');
      // a value over several lines (a heredoc, a list written out) takes each of them
      for (int i = 0, n = 1 + (int) v.chars().filter(c -> c == '\n').count(); i < n; i++) {
        lines.add(k);
      }
    });
    hclVariables = List.copyOf(lines);
    Path p = own().resolve(HCL_VARIABLES_FILE);
    try {
      write(p, sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the variable file " + p + ": " + e.getMessage(), e);
    }
    return p;
  }

  /** The variable on line {@code line} of the file {@link #writeHclVariables} wrote last, or null. */
  public String hclVariableAt(int line) {
    List<String> names = hclVariables;
    return line >= 1 && line <= names.size() ? names.get(line - 1) : null;
  }

  /** Removes the variable files {@link #writeVariables} and {@link #writeHclVariables} wrote (values do not stay at rest longer than a command). */
  public void clearVariables() {
    try {
      Files.deleteIfExists(own().resolve(HCL_VARIABLES_FILE));
      Files.deleteIfExists(own().resolve(VARIABLES_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the variable file: " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code bytes} to {@code target} through a temporary file, forced, and an atomic rename,
   * owner-only, its directory forced: a record a power loss could take back (an empty {@code
   * owned.json}) would be read as a lost one.
   */
  static void write(Path target, byte[] bytes) throws IOException {
    DurableFiles.write(target, bytes);
  }

}

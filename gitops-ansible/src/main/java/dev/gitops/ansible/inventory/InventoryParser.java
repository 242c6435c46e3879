package dev.gitops.ansible.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.ansible.internal.AnsibleYaml;
import dev.gitops.ansible.internal.IniInventory;
import dev.gitops.ansible.internal.InventoryModel;
import dev.gitops.ansible.internal.InventoryProblem;
import dev.gitops.ansible.internal.PyText;
import dev.gitops.ansible.internal.RepoPaths;
import dev.gitops.ansible.internal.VarsFiles;
import dev.gitops.ansible.internal.YamlInventory;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads an Ansible inventory exactly as Ansible does, in Java: INI and YAML inventory files (a
 * file, or a directory of them read in sorted order), {@code group_vars/} and {@code host_vars/}
 * next to it (files or directories, YAML or JSON), children groups, {@code all} and {@code
 * ungrouped}, host ranges ({@code web[01:10].example.com}, {@code db-[a:c]}, {@code n[1:9:2]}),
 * host and group variables and {@code ansible_group_priority}, merged with Ansible's variable
 * precedence: {@code all}'s inventory variables, then other groups' inventory variables (by
 * depth, priority, name), then {@code group_vars/all}, then {@code group_vars} of the other groups
 * in the same order, then the host's inventory variables, then its {@code host_vars}.
 *
 * <p>Where Ansible would only warn, input from Git is held to a stricter standard: a file that
 * neither the YAML nor the INI reader can read, a duplicate key in a YAML mapping, a tag Ansible
 * would not know, or text that is not UTF-8 is a {@link DecodeException} naming the file and line.
 * Not read: executable inventory scripts and inventory plugin configurations ({@code plugin:}).
 *
 * <pre>{@code
 * Inventory inv = InventoryParser.parse("inventory", filesByPath, "main@sha1:abc");
 * Inventory local = InventoryParser.parse(Path.of("inventory/hosts.ini"));
 * }</pre>
 */
public final class InventoryParser {

  /** Names Ansible skips in an inventory directory ({@code IGNORED} of its inventory manager). */
  private static final Pattern IGNORED = Pattern.compile(
      "^\\.|^host_vars$|^group_vars$|^vars_plugins$|\\.pyc$|\\.pyo$|\\.swp$|\\.bak$|~$|\\.rpm$|\\.md$|\\.txt$"
      + "|\\.rst$|\\.orig$|\\.ini$|\\.cfg$|\\.retry$");
  private static final Set<String> YAML_EXTENSIONS = Set.of("", ".yaml", ".yml", ".json");
  /** What {@code ansible-inventory} removes from host variables ({@code INTERNAL_VARS}). */
  private static final Set<String> INTERNAL_VARS = Set.of("ansible_diff_mode", "ansible_config_file",
      "ansible_facts", "ansible_forks", "ansible_inventory_sources", "ansible_limit", "ansible_playbook_python",
      "ansible_run_tags", "ansible_skip_tags", "ansible_verbosity", "ansible_version", "inventory_dir",
      "inventory_file", "inventory_hostname", "inventory_hostname_short", "groups", "group_names", "omit",
      "playbook_dir");

  private final NavigableMap<String, byte[]> files;
  private final String revision;
  private final Function<String, String> vaultFile;
  private final InventoryModel model = new InventoryModel();
  /** The files of an inventory directory that were read, and the ones Ansible skips by their name. */
  private int filesRead;
  private final List<String> skipped = new ArrayList<>();
  /** The files that were whole vault files, and the names of the variables they set. */
  private final Set<String> vaultedFiles = new java.util.HashSet<>();
  private final Set<String> vaultedVariables = new java.util.TreeSet<>();

  private InventoryParser(NavigableMap<String, byte[]> files, String revision, Function<String, String> vaultFile) {
    this.files = files;
    this.revision = revision;
    this.vaultFile = vaultFile;
  }

  /**
   * Parses the inventory at {@code inventoryPath} (a file or a directory; "" or "." for the root)
   * among {@code files} (paths relative to one root, with '/').
   *
   * @throws DecodeException naming the file, the line and {@code revision}
   */
  public static Inventory parse(String inventoryPath, Map<String, byte[]> files, String revision) {
    return parse(inventoryPath, files, revision, null);
  }

  /**
   * As {@link #parse(String, Map, String)}, with {@code vaultFile} turning the text of a whole
   * vault-encrypted file (an inventory file or a vars file) into its plain text (null: such a file
   * is an error); the names of the variables such files set are {@link Inventory#vaultedVariables()}.
   */
  public static Inventory parse(String inventoryPath, Map<String, byte[]> files, String revision,
      Function<String, String> vaultFile) {
    Objects.requireNonNull(inventoryPath, "inventoryPath");
    Objects.requireNonNull(files, "files");
    Objects.requireNonNull(revision, "revision");
    return new InventoryParser(new TreeMap<>(files), revision, vaultFile).run(RepoPaths.normalize(inventoryPath));
  }

  /**
   * Parses the inventory file or directory at {@code path} on disk (its {@code group_vars} and
   * {@code host_vars} included).
   *
   * @throws DecodeException naming the file and line
   * @throws UncheckedIOException when the files cannot be read
   */
  public static Inventory parse(Path path) {
    Path p = path.toAbsolutePath().normalize();
    Path root = Files.isDirectory(p) ? p : p.getParent();
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
        files.put(root.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read inventory " + path, e);
    }
    String inv = Files.isDirectory(p) ? "" : p.getFileName().toString();
    return parse(inv, files, "");
  }

  private DecodeException error(String path, int line, String message) {
    return new DecodeException(Origin.of(path, line, revision), message);
  }

  private boolean isDirectory(String dir) {
    if (dir.isEmpty()) {
      return !files.isEmpty();
    }
    String prefix = dir + "/";
    String next = files.ceilingKey(prefix);
    return next != null && next.startsWith(prefix);
  }

  private Inventory run(String inventoryPath) {
    boolean isFile = files.containsKey(inventoryPath);
    if (!isFile && !isDirectory(inventoryPath)) {
      throw error(inventoryPath, 0, "inventory '" + inventoryPath + "' is neither a file nor a directory of the source");
    }
    if (isFile) {
      parseFile(inventoryPath);
    } else {
      parseDirectory(inventoryPath);
      if (filesRead == 0) {
        // Ansible warns that it could not parse the source and runs with no host: an error here
        throw error(inventoryPath, 0, "inventory directory '" + (inventoryPath.isEmpty() ? "." : inventoryPath)
            + "' holds no file Ansible reads as an inventory" + (skipped.isEmpty() ? "" : ": it skips " + String.join(", ", skipped)
            + " (in an inventory directory, hidden files and names ending in .ini, .cfg, .txt, .md, .rst, .retry,"
            + " .orig, .bak, ~ and the like are not read); rename the file (hosts, hosts.yml) or give it as the"
            + " inventory"));
      }
    }
    try {
      model.reconcile();
    } catch (InventoryProblem e) {
      throw error(inventoryPath, e.line(), e.getMessage());
    }
    String base = isFile ? RepoPaths.parent(inventoryPath) : inventoryPath;
    VarsFiles varsFiles = new VarsFiles(files, base, this::text);
    try {
      Inventory inv = build(varsFiles);
      vaultedFiles.forEach(f -> vaultedVariables.addAll(varsFiles.names(f)));
      return new Inventory(inv.hosts(), inv.groups(), vaultedVariables);
    } catch (InventoryProblem e) {
      throw error(e.path() == null ? inventoryPath : e.path(), e.line(), e.getMessage());
    }
  }

  private void parseDirectory(String dir) {
    for (String name : VarsFiles.entries(files, dir)) {
      String full = dir.isEmpty() ? name : dir + "/" + name;
      if (IGNORED.matcher(name).find()) {
        if (!name.equals("group_vars") && !name.equals("host_vars")) {
          skipped.add(full);
        }
        continue;
      }
      if (isDirectory(full)) {
        parseDirectory(full);
      } else {
        parseFile(full);
        filesRead++;
      }
    }
  }

  /** The plugins Ansible tries in turn: YAML for .yml/.yaml/.json and extension-less files, then INI. */
  private void parseFile(String path) {
    String text = text(path);
    if (vaultedFiles.contains(path)) {
      // every variable a vault-encrypted inventory file sets is secret, at any depth of it
      model.recordVariableNames(vaultedVariables);
    }
    try {
      parseText(path, text);
    } finally {
      model.recordVariableNames(null);
    }
  }

  private void parseText(String path, String text) {
    String ext = PyText.extension(path);
    String yamlProblem = null;
    int yamlLine = 0;
    if (YAML_EXTENSIONS.contains(ext)) {
      AnsibleYaml.Loaded loaded = null;
      try {
        loaded = AnsibleYaml.load(text);
      } catch (AnsibleYaml.YamlError e) {
        yamlProblem = e.getMessage();
        yamlLine = e.line();
      }
      if (loaded != null) {
        String refusal = YamlInventory.refusal(loaded);
        if (refusal == null) {
          try {
            YamlInventory.parse(model, path, loaded);
          } catch (InventoryProblem e) {
            throw error(path, e.line(), e.getMessage());
          }
          return;
        }
        yamlProblem = refusal;
      }
    }
    try {
      IniInventory.parse(model, path, text);
    } catch (InventoryProblem e) {
      if (yamlProblem == null || ext.isEmpty() && e.getMessage().startsWith(IniInventory.UNCLOSED)) {
        // An unclosed "[web" with INI lines before it: INI that YAML, reading a flow sequence
        // there, only fails on further down ("did not find expected ',' or ']'")
        throw error(path, e.line(), e.getMessage());
      }
      // Evidently YAML: named so, or read as YAML further than as INI (an INI reader stops at the
      // first "all:" line). Then the INI reader's complaint is noise and the YAML one is the error.
      if (!ext.isEmpty() || yamlLine > e.line()) {
        throw error(path, yamlLine, yamlProblem);
      }
      throw error(path, e.line(), e.getMessage() + " (as YAML: " + yamlProblem + ")");
    }
  }

  /** The file's text: UTF-8, decrypted when it is a whole vault file. */
  private String text(String path) {
    byte[] bytes = files.get(path);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw error(path, lineOfBadByte(bytes), "not valid UTF-8");
    }
    if (text.startsWith("$ANSIBLE_VAULT;")) {
      if (vaultFile == null) {
        throw error(path, 1, "the file is vault-encrypted and no vault password was given: give the vault password"
            + " file (set by the CLI's --vault-password-file, the agent's vaultPasswordFile: or"
            + " AnsibleProvider.Builder.vaultPasswordFile)");
      }
      String plain;
      try {
        plain = vaultFile.apply(text);
      } catch (RuntimeException e) {
        // the decryptor's message names the vault password file that does not decrypt it
        throw error(path, 1, "cannot decrypt the vault-encrypted file " + path + ": " + e.getMessage()
            + (String.valueOf(e.getMessage()).startsWith("HMAC mismatch") ? "; encrypt it again with that password"
                + " (ansible-vault rekey), or give the password it was encrypted with" : ""));
      }
      vaultedFiles.add(path);
      return plain;
    }
    return text;
  }

  private static int lineOfBadByte(byte[] bytes) {
    var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    int line = 1;
    int start = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == '\n') {
        try {
          dec.reset().decode(ByteBuffer.wrap(bytes, start, i - start));
        } catch (CharacterCodingException e) {
          return line;
        }
        line++;
        start = i + 1;
      }
    }
    return 0;
  }

  private Inventory build(VarsFiles varsFiles) {
    Map<String, Inventory.Group> groups = new LinkedHashMap<>();
    for (InventoryModel.Group g : model.groups().values()) {
      ObjectNode vars = g.vars().deepCopy();
      vars.setAll(varsFiles.group(g.name()));
      if (!g.priority().equals(java.math.BigInteger.ONE)) {
        vars.set("ansible_group_priority", number(g.priority()));
      }
      List<String> children = new ArrayList<>();
      g.children().forEach(c -> children.add(c.name()));
      List<String> hosts = new ArrayList<>();
      g.hosts().forEach(h -> hosts.add(h.name()));
      groups.put(g.name(), new Inventory.Group(g.name(), vars, children, hosts, g.depth()));
    }
    InventoryModel.Group all = model.groups().get("all");
    ObjectNode allFileVars = varsFiles.group("all");
    Map<String, Inventory.Host> hosts = new LinkedHashMap<>();
    for (InventoryModel.Host h : model.hosts().values()) {
      List<InventoryModel.Group> sorted = InventoryModel.sortedGroups(h);
      ObjectNode vars = all.vars().deepCopy();
      sorted.forEach(g -> vars.setAll(g.vars()));
      vars.setAll(allFileVars);
      sorted.forEach(g -> vars.setAll(varsFiles.group(g.name())));
      vars.setAll(h.vars());
      ObjectNode hostFileVars = varsFiles.host(h.name());
      vars.setAll(hostFileVars);
      vars.remove(INTERNAL_VARS);
      ObjectNode own = h.vars().deepCopy();
      own.setAll(hostFileVars);
      own.remove(INTERNAL_VARS);
      List<String> names = new ArrayList<>();
      sorted.forEach(g -> names.add(g.name()));
      names.sort(InventoryModel::compareCodePoints);
      hosts.put(h.name(), new Inventory.Host(h.name(), names, vars, own, Origin.of(h.file(), h.line(), revision)));
    }
    return new Inventory(hosts, groups, Set.of());
  }

  private static JsonNode number(java.math.BigInteger v) {
    return v.bitLength() < 64 ? Documents.nodes().numberNode(v.longValue()) : Documents.nodes().numberNode(v);
  }
}

package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code host_group_vars} vars plugin over a set of files: {@code group_vars/<name>} and
 * {@code host_vars/<name>} next to the inventory, as a file (no extension, {@code .yml}, {@code
 * .yaml}, {@code .json}; the first that exists wins) or a directory read recursively in sorted
 * order (hidden files, backups and other extensions skipped). Each file is loaded once.
 */
public final class VarsFiles {

  private static final List<String> EXTENSIONS = List.of(".yml", ".yaml", ".json");

  private final NavigableMap<String, byte[]> files;
  private final String base;
  private final Map<String, ObjectNode> cache = new HashMap<>();
  private final Map<String, JsonNode> loadedFiles = new HashMap<>();
  private final java.util.function.Function<String, String> text;

  /**
   * Vars files under {@code basedir} ("" for the root) of {@code files} (paths with '/'); {@code
   * text} turns a file's path and bytes into its text (UTF-8 checks, vault decryption).
   */
  public VarsFiles(NavigableMap<String, byte[]> files, String basedir,
      java.util.function.Function<String, String> text) {
    this.files = files;
    this.base = basedir.isEmpty() ? "" : basedir + "/";
    this.text = text;
  }

  /** Variables of group {@code name} from {@code group_vars}. */
  public ObjectNode group(String name) {
    return vars("group_vars", name);
  }

  /** Variables of host {@code name} from {@code host_vars}. */
  public ObjectNode host(String name) {
    return vars("host_vars", name);
  }

  /** Every file the vars of {@code name} came from, in the order they were merged. */
  public List<String> sources(String subdir, String name) {
    if (name.startsWith("/")) {
      return List.of();
    }
    String dir = base + subdir;
    if (!isDirectory(dir)) {
      return List.of();
    }
    String stem = dir + "/" + name;
    List<String> found = new ArrayList<>();
    List<String> candidates = new ArrayList<>();
    candidates.add(stem);
    EXTENSIONS.forEach(e -> candidates.add(stem + e));
    for (String full : candidates) {
      if (isDirectory(full)) {
        dirFiles(full, found);
        break;
      }
      if (files.containsKey(full)) {
        found.add(full);
        break;
      }
    }
    return found;
  }

  private ObjectNode vars(String subdir, String name) {
    String cacheKey = subdir + "/" + name;
    ObjectNode cached = cache.get(cacheKey);
    if (cached != null) {
      return cached;
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    for (String f : sources(subdir, name)) {
      JsonNode data = load(f);
      if (YamlInventory.isFalsy(data)) {
        continue;  // Ansible ignores empty files
      }
      if (!YamlInventory.isMapping(data)) {
        throw new InventoryProblem(f, 1, "failed to combine variables, expected dicts but got a '"
            + YamlInventory.kind(data) + "' and a 'dict'");
      }
      out.setAll((ObjectNode) data);
    }
    cache.put(cacheKey, out);
    return out;
  }

  private JsonNode load(String path) {
    if (loadedFiles.containsKey(path)) {
      return loadedFiles.get(path);
    }
    JsonNode v;
    try {
      v = AnsibleYaml.load(text.apply(path)).value();
    } catch (AnsibleYaml.YamlError e) {
      throw new InventoryProblem(path, e.line(), e.getMessage());
    }
    loadedFiles.put(path, v);
    return v;
  }

  /** The variable names the vars file at {@code path} set: none when it was not loaded or is no mapping. */
  public List<String> names(String path) {
    JsonNode data = loadedFiles.get(path);
    List<String> out = new ArrayList<>();
    if (YamlInventory.isMapping(data)) {
      data.fieldNames().forEachRemaining(out::add);
    }
    return out;
  }

  private boolean isDirectory(String dir) {
    String prefix = dir + "/";
    String next = files.ceilingKey(prefix);
    return next != null && next.startsWith(prefix);
  }

  /** {@code _get_dir_vars_files}: sorted entries, hidden and backup files skipped, subdirectories without extension. */
  private void dirFiles(String dir, List<String> out) {
    for (String name : entries(files, dir)) {
      if (name.startsWith(".") || name.endsWith("~")) {
        continue;
      }
      String ext = PyText.extension(name);
      String full = dir + "/" + name;
      if (isDirectory(full) && ext.isEmpty()) {
        dirFiles(full, out);
      } else if (files.containsKey(full) && (ext.isEmpty() || EXTENSIONS.contains(ext))) {
        out.add(full);
      }
    }
  }

  /** Names directly under {@code dir} ("" for the root) in {@code files}, sorted as Python sorts them. */
  public static List<String> entries(NavigableMap<String, byte[]> files, String dir) {
    String prefix = dir.isEmpty() ? "" : dir + "/";
    Set<String> names = new TreeSet<>(InventoryModel::compareCodePoints);
    for (String p : files.tailMap(prefix, true).keySet()) {
      if (!p.startsWith(prefix)) {
        break;
      }
      String rest = p.substring(prefix.length());
      int slash = rest.indexOf('/');
      names.add(slash < 0 ? rest : rest.substring(0, slash));
    }
    return new ArrayList<>(names);
  }
}

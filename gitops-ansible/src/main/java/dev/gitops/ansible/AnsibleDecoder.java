package dev.gitops.ansible;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.ansible.internal.AnsibleYaml;
import dev.gitops.ansible.internal.HostNames;
import dev.gitops.ansible.internal.InlineVaults;
import dev.gitops.ansible.internal.PlayVarsFiles;
import dev.gitops.ansible.internal.PlaybookBundle;
import dev.gitops.ansible.internal.RepoPaths;
import dev.gitops.ansible.internal.SyntaxCheck;
import dev.gitops.ansible.inventory.Inventory;
import dev.gitops.ansible.inventory.InventoryParser;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Origin;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The Ansible provider's decoder: reads the inventory and the playbook directory together and
 * produces one resource per host and one per group; none at all for an inventory without hosts
 * (its groups, {@code all} and {@code ungrouped} among them, would converge nothing), so that the
 * mass-deletion guard sees a commit that empties the inventory as deleting everything.
 *
 * <p>A host's document is its place in the fleet and everything that decides what the playbook
 * does to it:
 *
 * <pre class="language-yaml">{@code
 * groups: [eu, web]                 # group_names
 * vars: {http_port: 8080}           # effective variables, Ansible's precedence
 * playbook: "sha256:…"              # digest of the playbook directory and options
 * converged: true
 * }</pre>
 *
 * <p>The playbook digest covers every file under the playbook's directory (roles, templates,
 * files, its group_vars), the playbook path and the extra variables, but not the inventory
 * files, whose effect is already in each host's variables, nor the decommission playbook: a change
 * to any of them makes every host out of date, and nothing else does. A group's document is
 * {@code {"vars": {...}, "children": [...]}}.
 *
 * <p>Values that are vault-encrypted, and variables whose names match the provider's sensitive
 * names, are marked sensitive, so the engine redacts them in plans, events, logs and history.
 * Host names that Ansible's {@code --limit} would read as something else are refused: names that
 * start with {@code -} (they could pass for an option), names with pattern characters ({@code *
 * ? [ ] , ! & ~ @ :} and white space) and names that are also group names.
 *
 * <p>Each decode also runs {@code ansible-playbook --syntax-check} once, on a copy of the playbook
 * directory in a temporary directory removed afterwards, over the playbook and the decommission
 * playbook: a YAML or Ansible error in either, or in a role or file they import, fails the decode
 * naming the repository file and line Ansible gives ({@code ansible/site.yml:4}), before anything
 * runs. Files that loaded at one of the provider's last few checks are not checked again. Without
 * {@code ansible-playbook}, or past its time (a minute, or the provider's shorter timeout), the
 * check is skipped with a warning in the log.
 */
public final class AnsibleDecoder implements Decoder {

  /** The resource type of hosts. */
  public static final String HOST = "host";
  /** The resource type of groups. */
  public static final String GROUP = "group";

  private final String providerId;
  private final String inventoryPath;
  private final String inventoryBase;
  private final String playbookPath;
  private final String playbookDir;
  private final String decommissionPath;
  private final List<Pattern> sensitive;
  private final JsonNode extraVars;
  private final Function<String, String> vaultFile;
  private final SyntaxCheck syntaxCheck;

  /** The last decode: the exact inventory and the playbook bundle, for the provider. */
  private volatile Decoded latest;

  /**
   * What one decode produced, kept for the provider's runs: the inventory with exact values, the
   * playbook files, each host's desired document, and the revision its files were read at.
   */
  record Decoded(Inventory inventory, PlaybookBundle bundle, Map<String, JsonNode> hostDocs, Set<String> vaulted,
      InlineVaults vaults, String revision) {}

  AnsibleDecoder(String providerId, String inventoryPath, String playbookPath, String decommissionPath,
      List<String> sensitiveNames, JsonNode extraVars, Function<String, String> vaultFile, SyntaxCheck syntaxCheck) {
    this.providerId = providerId;
    this.inventoryPath = RepoPaths.normalize(inventoryPath);
    if (this.inventoryPath.isEmpty()) {
      throw new IllegalArgumentException("the inventory path must name a file or a directory below the source root,"
          + " not the root itself: '" + inventoryPath + "'");
    }
    this.inventoryBase = RepoPaths.parent(this.inventoryPath);
    this.playbookPath = RepoPaths.normalize(playbookPath);
    this.playbookDir = RepoPaths.parent(this.playbookPath);
    this.decommissionPath = decommissionPath == null ? null : RepoPaths.normalize(decommissionPath);
    List<Pattern> ps = new ArrayList<>();
    for (String n : sensitiveNames) {
      ps.add(Pattern.compile(Pattern.quote(n).replace("*", "\\E.*\\Q")));
    }
    this.sensitive = List.copyOf(ps);
    this.extraVars = Documents.freeze(extraVars);
    this.vaultFile = vaultFile;
    this.syntaxCheck = syntaxCheck;
  }

  private static boolean under(String path, String dir) {
    return dir.isEmpty() || path.equals(dir) || path.startsWith(dir + "/");
  }

  /** group_vars and host_vars next to the inventory when the inventory is a file. */
  private boolean isAdjacentVars(String path) {
    String base = inventoryBase.isEmpty() ? "" : inventoryBase + "/";
    return path.startsWith(base + "group_vars/") || path.startsWith(base + "host_vars/");
  }

  @Override
  public boolean claims(String path) {
    return under(path, inventoryPath) || isAdjacentVars(path) || under(path, playbookDir);
  }

  @Override
  public boolean decodesTogether() {
    return true;
  }

  @Override
  public List<Resource> decode(SourceFile file) {
    return decodeTogether(List.of(file));
  }

  @Override
  public String fingerprint() {
    return getClass().getName() + "|" + providerId + "|" + inventoryPath + "|" + playbookPath + "|" + decommissionPath
        + "|" + sensitive + "|" + Documents.canonicalJson(extraVars);
  }

  /** Whether a decommission playbook is configured. */
  boolean hasDecommissionPlaybook() {
    return decommissionPath != null;
  }

  /** The last decode, or null before the first. */
  Decoded latest() {
    return latest;
  }

  @Override
  public List<Resource> decodeTogether(List<SourceFile> files) {
    if (files.isEmpty()) {
      throw new DecodeException(Origin.of(inventoryPath, 0, ""), "no inventory at '" + inventoryPath + "'");
    }
    String revision = files.get(0).revision();
    boolean inventoryIsFile = files.stream().anyMatch(f -> f.path().equals(inventoryPath));
    Map<String, byte[]> inventoryFiles = new TreeMap<>();
    Map<String, byte[]> playbookFiles = new TreeMap<>();
    for (SourceFile f : files) {
      if (under(f.path(), inventoryPath) || inventoryIsFile && isAdjacentVars(f.path())) {
        inventoryFiles.put(f.path(), f.content());
      } else if (under(f.path(), playbookDir)) {
        playbookFiles.put(f.path(), f.content());
      }
    }
    if (!playbookFiles.containsKey(playbookPath)) {
      throw new DecodeException(Origin.of(playbookPath, 0, revision), "the playbook '" + playbookPath
          + "' is not in the source");
    }
    if (decommissionPath != null && !playbookFiles.containsKey(decommissionPath)) {
      throw new DecodeException(Origin.of(decommissionPath, 0, revision), "the decommission playbook '"
          + decommissionPath + "' is not in the source");
    }
    Inventory inv = InventoryParser.parse(inventoryPath, inventoryFiles, revision, vaultFile);
    // every variable of a vault-encrypted file (vars file or inventory file) is secret
    Set<String> vaulted = inv.vaultedVariables();
    PlaybookBundle bundle = new PlaybookBundle(digest(playbookFiles), playbookFiles, playbookPath, decommissionPath);
    List<Resource> out = new ArrayList<>();
    Map<String, JsonNode> hostDocs = new LinkedHashMap<>();
    // An inventory without hosts declares nothing to converge: not even Ansible's implicit groups
    // (all and ungrouped are in every inventory), which would otherwise stay owned, so a commit that
    // empties the inventory would not be "everything owned deleted" to the mass-deletion guard.
    for (Inventory.Group g : inv.hosts().isEmpty() ? List.<Inventory.Group>of() : inv.groups().values()) {
      ObjectNode doc = Documents.nodes().objectNode();
      doc.set("vars", g.vars());
      ArrayNode children = doc.putArray("children");
      g.children().forEach(children::add);
      if (inv.hosts().containsKey(g.name())) {
        Inventory.Host h = inv.host(g.name());
        throw new DecodeException(h.origin(), "'" + g.name() + "' is both a host and a group; Ansible's --limit"
            + " would select the whole group, so rename one of them");
      }
      out.add(Resource.builder(ResourceKey.of(providerId, GROUP, "", g.name())).document(doc)
          .origin(Origin.of(inventoryPath, 0, revision)).sensitive(sensitivePaths(g.vars(), vaulted)).build());
    }
    Map<String, Inventory.Host> byIpv6 = new java.util.HashMap<>();
    for (Inventory.Host h : inv.hosts().values()) {
      checkHostName(h);
      checkOneNamePerAddress(h, byIpv6);
      JsonNode vars = h.vars();
      ObjectNode doc = Documents.nodes().objectNode();
      ArrayNode groups = doc.putArray("groups");
      h.groups().forEach(groups::add);
      doc.set("vars", vars);
      doc.put("playbook", bundle.digest());
      doc.put("converged", true);
      Resource r = Resource.builder(ResourceKey.of(providerId, HOST, "", h.name())).document(doc).origin(h.origin())
          .sensitive(sensitivePaths(vars, vaulted)).build();
      hostDocs.put(h.name(), r.document());
      out.add(r);
    }
    List<String> playbooks = decommissionPath == null ? List.of(playbookPath) : List.of(playbookPath, decommissionPath);
    for (String playbook : playbooks) {
      PlayVarsFiles.missing(bundle, playbook).ifPresent(p -> {
        throw new DecodeException(Origin.of(p.file(), p.line(), revision), p.message());
      });
    }
    // the vars files Ansible loads only when a play runs, which --syntax-check does not load: those
    // of the groups a host is in (its group_names, and all)
    Set<String> hostGroups = new java.util.TreeSet<>();
    inv.hosts().values().forEach(h -> {
      hostGroups.add("all");
      hostGroups.addAll(h.groups());
    });
    PlayVarsFiles.unreadable(bundle, playbooks, hostGroups, inv.hosts().keySet()).ifPresent(p -> {
      throw new DecodeException(Origin.of(p.file(), p.line(), revision), p.message());
    });
    if (syntaxCheck != null) {
      // once per decode, after the inventory's own errors: one process for every host and group
      syntaxCheck.check(bundle).ifPresent(p -> {
        throw new DecodeException(Origin.of(p.file(), p.line(), revision), "ansible-playbook --syntax-check: "
            + p.message() + "; nothing runs until Ansible can load the playbook: " + p.fix());
      });
    }
    // where each inline !vault value is, to name the one Ansible cannot decrypt at a run
    latest = new Decoded(inv, bundle, hostDocs, Set.copyOf(vaulted), InlineVaults.scan(inventoryFiles, playbookFiles),
        revision);
    return out;
  }

  private static void checkHostName(Inventory.Host h) {
    String problem = HostNames.problem(h.name());
    if (problem != null) {
      throw new DecodeException(h.origin(), problem + "; refused (give the host another inventory name and set"
          + " ansible_host)");
    }
  }

  /**
   * Refuses a host named by an IPv6 address that another host's name already wrote another way
   * ({@code 2001:0DB8:0:0::1} beside {@code 2001:db8::1}): Ansible takes them for two hosts and
   * would run the playbook on both at once, on the one machine. Names that are no IPv6 address
   * (aliases of one machine through {@code ansible_host} among them) are left alone.
   */
  private static void checkOneNamePerAddress(Inventory.Host h, Map<String, Inventory.Host> byIpv6) {
    if (!HostNames.isIpv6(h.name())) {
      return;
    }
    String address = HostNames.address(h.name());
    Inventory.Host first = byIpv6.putIfAbsent(address, h);
    if (first != null && !first.name().equals(h.name())) {
      throw new DecodeException(h.origin(), "host '" + h.name() + "' is the same IPv6 address (" + address
          + ") as host '" + first.name() + "' at " + first.origin().path() + ":" + first.origin().line() + ", written another way:"
          + " Ansible takes them for two hosts and would run the playbook on both at once, on one machine; write the"
          + " address one way");
    }
  }

  /** /vars/NAME for every variable that holds a vault value or whose name the user marked sensitive. */
  private Set<PathPattern> sensitivePaths(JsonNode vars, Set<String> vaulted) {
    Set<PathPattern> out = new HashSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = vars.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (AnsibleYaml.containsVault(e.getValue()) || isSensitiveName(e.getKey()) || vaulted.contains(e.getKey())) {
        out.add(PathPattern.of("/vars/" + new FieldPath.Field(e.getKey()).text()));
      }
    }
    return out;
  }

  /** Whether the user marked variable {@code name} sensitive (or it came from a vault-encrypted file). */
  boolean isSensitiveName(String name) {
    Decoded d = latest;
    if (d != null && d.vaulted().contains(name)) {
      return true;
    }
    for (Pattern p : sensitive) {
      if (p.matcher(name).matches()) {
        return true;
      }
    }
    return false;
  }

  /** SHA-256 over the options and every playbook file but the decommission playbook. */
  private String digest(Map<String, byte[]> playbookFiles) {
    MessageDigest md = Documents.sha256();
    md.update(("playbook\0" + playbookPath + "\0extra-vars\0" + Documents.canonicalJson(extraVars) + "\0")
        .getBytes(StandardCharsets.UTF_8));
    for (Map.Entry<String, byte[]> f : playbookFiles.entrySet()) {
      if (f.getKey().equals(decommissionPath)) {
        continue;
      }
      md.update(f.getKey().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(Documents.sha256().digest(f.getValue()));
    }
    return "sha256:" + HexFormat.of().formatHex(md.digest());
  }
}

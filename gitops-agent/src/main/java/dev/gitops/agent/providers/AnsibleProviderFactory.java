package dev.gitops.agent.providers;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.ansible.AnsibleProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code ansible} provider type: a fleet converged with {@code ansible-playbook}, hosts and
 * groups from the repository's inventory (keys of provider {@code ansible}).
 *
 * <pre class="language-yaml">{@code
 * provider:
 *   type: ansible
 *   playbook: ansible/site.yml           # required: a path in the repository
 *   inventory: ansible/inventory         # a file or directory in the repository (default: inventory)
 *   inventoryOut: /var/lib/gitops/fleet/inventory.yml   # required: the managed inventory Ansible runs with
 *   decommissionPlaybook: ansible/decommission.yml      # run on hosts removed from the inventory
 *   extraVars: {env: prod}               # -e for every run; part of every host's desired state
 *   checkDrift: false                    # observe runs check mode to find drift (costs a run)
 *   forks: 10                            # --forks (default: Ansible's)
 *   timeout: 30m                         # longest run (default 30m)
 *   vaultPasswordFile: /run/secrets/vault-password
 *   sensitiveVariables: [db_password, "*_token"]
 * }</pre>
 *
 * <p>{@link #builder} is also what {@code gitops sync --provider ansible} runs.
 */
public final class AnsibleProviderFactory implements ProviderFactory {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String type() {
    return "ansible";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "playbook", "inventory", "inventoryOut", "decommissionPlaybook", "extraVars",
        "checkDrift", "forks", "timeout", "vaultPasswordFile", "sensitiveVariables");
    String playbook = options.string("playbook");
    String inventory = options.optionalString("inventory").orElse("inventory");
    Path inventoryOut = options.path("inventoryOut");
    String decommission = options.optionalString("decommissionPlaybook").orElse(null);
    ConfigNode vars = options.get("extraVars");
    if (!vars.isAbsent() && !vars.json().isObject()) {
      throw vars.error("must be a mapping of variable names to values");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> extraVars = vars.isAbsent() ? Map.of() : JSON.convertValue(vars.json(), LinkedHashMap.class);
    boolean checkDrift = options.bool("checkDrift", false);
    int forks = options.integer("forks", 1, 10_000, 0);
    Duration timeout = options.duration("timeout", null, AgentConfig.MIN_TIMEOUT, "it bounds each ansible-playbook"
        + " run, and a run cut off leaves its hosts unknown");
    Path vaultPasswordFile = options.optionalPath("vaultPasswordFile").orElse(null);
    List<String> sensitive = options.strings("sensitiveVariables");
    if (target.readFiles() && vaultPasswordFile != null && !Files.isReadable(vaultPasswordFile)) {
      throw options.get("vaultPasswordFile").error("cannot read " + vaultPasswordFile);
    }
    if (LocalRepository.inside(inventoryOut, target.store())) {
      throw options.get("inventoryOut").error("lies in the target's store " + target.store() + ": give a file outside it");
    }
    try {
      builder(inventory, playbook, inventoryOut);
      if (decommission != null) {
        repositoryPath("decommissionPlaybook", decommission);
      }
    } catch (InvalidOptionException e) {
      throw options.get(e.option()).error(e.getMessage());
    }
    return Setup.of("ansible", () -> {
      AnsibleProvider.Builder b = builder(inventory, playbook, inventoryOut).extraVars(extraVars).checkDrift(checkDrift)
          .sensitiveVariables(sensitive.toArray(String[]::new));
      if (decommission != null) {
        b.decommissionPlaybook(decommission);
      }
      if (forks > 0) {
        b.forks(forks);
      }
      if (timeout != null) {
        b.timeout(timeout);
      }
      if (vaultPasswordFile != null) {
        b.vaultPasswordFile(vaultPasswordFile);
      }
      return b.build();
    }, List.of(inventoryOut.toAbsolutePath().normalize()));
  }

  /**
   * A builder of the Ansible provider (id {@code ansible}) for {@code playbook} and {@code inventory}
   * in the repository, writing the managed inventory to {@code inventoryOut}; add what else the
   * caller has (extra variables, listeners) and build it.
   *
   * @throws InvalidOptionException naming {@code inventory} or {@code playbook} when it is not a
   *     relative path inside the repository
   * @throws NullPointerException naming the argument that is null
   */
  public static AnsibleProvider.Builder builder(String inventory, String playbook, Path inventoryOut) {
    java.util.Objects.requireNonNull(inventory, "inventory");
    java.util.Objects.requireNonNull(playbook, "playbook");
    java.util.Objects.requireNonNull(inventoryOut, "inventoryOut");
    repositoryPath("inventory", inventory);
    repositoryPath("playbook", playbook);
    AnsibleProvider.Builder b = AnsibleProvider.builder().inventory(inventory).playbook(playbook);
    try {
      return b.inventoryOut(inventoryOut.toAbsolutePath().normalize());
    } catch (IllegalArgumentException e) {
      // a name Ansible would not read as YAML: the option at fault is named
      throw new InvalidOptionException("inventoryOut", e.getMessage(), e);
    }
  }

  /** A path read from the repository: relative, never leaving it. */
  private static void repositoryPath(String option, String path) {
    Path p;
    try {
      p = Path.of(path);
    } catch (java.nio.file.InvalidPathException e) {
      throw new InvalidOptionException(option, "'" + path + "' is not a path: " + e.getMessage(), e);
    }
    if (p.isAbsolute() || path.startsWith("/") || p.normalize().startsWith("..")) {
      throw new InvalidOptionException(option, "'" + path + "' must be a relative path inside the repository");
    }
  }
}

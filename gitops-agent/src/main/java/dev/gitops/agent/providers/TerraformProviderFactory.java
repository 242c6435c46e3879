package dev.gitops.agent.providers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.config.SecretRef;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.terraform.TerraformProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code terraform} provider type: a Terraform or OpenTofu configuration (the target's
 * {@code source.path}) planned and applied in a working directory of its own, as tofu-controller
 * does (keys of provider {@code tf}). Every sync plans; a plan with changes is applied as the
 * saved plan file, under the target's guards and policies ({@code policies.detectOnly} plans and
 * reports only). Approval by hand is for the library ({@code TerraformProvider.approve}).
 *
 * <pre class="language-yaml">{@code
 * provider:
 *   type: terraform
 *   directory: /var/lib/gitops/tf-prod   # required: Terraform's working directory (state, .terraform, plans)
 *   binary: tofu                         # terraform (default), tofu, or a path
 *   variables:                           # -var semantics; never on a command line
 *     region: eu-west-1
 *     db_password: {env: DB_PASSWORD}    # or {file: /run/secrets/db}: sensitive, scrubbed everywhere
 *   varFiles: [env/prod.tfvars]          # a file of the configuration (the revision's), or absolute
 *   workspace: prod                      # default: default
 *   lockTimeout: 30s                     # how long Terraform waits for the state lock (default 0)
 *   commandTimeout: 1h                   # the longest one command may run (also bounded by callTimeout)
 *   interruptGrace: 5m                   # how long a command cut off may take to stop (default 1m)
 * }</pre>
 *
 * <p>A plan or apply that takes longer than the target's {@code callTimeout} (2 minutes by
 * default) is cut off: raise it for configurations that take longer. {@link #builder} is also what
 * {@code gitops sync --provider terraform} runs.
 */
public final class TerraformProviderFactory implements ProviderFactory {

  @Override
  public String type() {
    return "terraform";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "directory", "binary", "variables", "varFiles", "workspace", "lockTimeout",
        "commandTimeout", "interruptGrace");
    Path directory = options.path("directory");
    String inRepository = LocalRepository.conflict(target.source(), target.sourcePath(), directory);
    if (inRepository != null) {
      throw options.get("directory").error(directory + " " + inRepository);
    }
    if (LocalRepository.inside(directory, target.store())) {
      throw options.get("directory").error("lies in the target's store " + target.store()
          + ": give Terraform a directory of its own");
    }
    String binary = options.optionalString("binary").orElse("terraform");
    ConfigNode vars = options.get("variables");
    if (!vars.isAbsent() && !vars.json().isObject()) {
      throw vars.error("must be a mapping of variable names to values, a secret as {env: NAME} or {file: PATH}");
    }
    Map<String, String> plain = new LinkedHashMap<>();
    Map<String, SecretRef> secret = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = vars.json().fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (v.isObject()) {
        SecretRef ref = vars.secret(e.getKey()).orElseThrow();
        if (target.readFiles()) {
          ref.resolve(target.environment());  // an unset variable or unreadable file fails here, at its line
        }
        secret.put(e.getKey(), ref);
      } else if (v.isValueNode() && !v.isNull()) {
        plain.put(e.getKey(), v.asText());
      } else {
        throw vars.get(e.getKey()).error("must be a string, number or boolean (a list or map goes in a variable"
            + " file, varFiles), or a secret as {env: NAME} or {file: PATH}");
      }
    }
    List<String> varFiles = options.strings("varFiles");
    String workspace = options.optionalString("workspace").orElse(null);
    Duration lockTimeout = options.duration("lockTimeout", null);
    Duration commandTimeout = options.duration("commandTimeout", null, AgentConfig.MIN_TIMEOUT, "it bounds each"
        + " Terraform command, and a plan or apply cut off fails the sync");
    Duration interruptGrace = options.duration("interruptGrace", null);
    Map<String, String> names = new LinkedHashMap<>(plain);
    secret.keySet().forEach(k -> names.put(k, "checked"));
    // Built once now (nothing is started) so that a bad name fails the configuration, at its line.
    try {
      options(builder(directory, binary, names, varFiles), workspace, lockTimeout, commandTimeout, interruptGrace);
    } catch (InvalidOptionException e) {
      throw (e.option().equals("variables") ? vars : options.get(e.option())).error(e.getMessage());
    }
    return Setup.of("tf", () -> {
      TerraformProvider.Builder b = options(builder(directory, binary, plain, varFiles), workspace, lockTimeout,
          commandTimeout, interruptGrace);
      secret.forEach((name, ref) -> b.sensitiveVariable(name, ref.resolve(target.environment())));
      // policies.adopt: take over a working directory whose state gitops did not make (refused otherwise)
      // the record of the state kept in the target's store too: a lost working directory is refused, not recreated
      // errors name a file as the repository holds it (source.path/main.tf), not relative to source.path
      b.sourcePath(target.sourcePath() == null ? "" : target.sourcePath());
      return b.adopt(target.adopt()).stateRecordCopy(target.store()).build();
    }, List.of(directory.toAbsolutePath().normalize()));  // one target per working directory: its state
  }

  private static TerraformProvider.Builder options(TerraformProvider.Builder b, String workspace, Duration lockTimeout,
      Duration commandTimeout, Duration interruptGrace) {
    if (workspace != null) {
      option("workspace", () -> b.workspace(workspace));
    }
    if (lockTimeout != null) {
      option("lockTimeout", () -> b.lockTimeout(lockTimeout));
    }
    if (commandTimeout != null) {
      option("commandTimeout", () -> b.commandTimeout(commandTimeout));
    }
    if (interruptGrace != null) {
      option("interruptGrace", () -> b.interruptGrace(interruptGrace));
    }
    return b;
  }

  /** Runs {@code set}; what the builder refuses is an error of {@code option}. */
  private static void option(String option, Runnable set) {
    try {
      set.run();
    } catch (IllegalArgumentException e) {
      throw new InvalidOptionException(option, e.getMessage(), e);
    }
  }

  /**
   * A builder of the Terraform provider (id {@code tf}) working in {@code directory}, the whole
   * desired state its configuration, with {@code binary} and the plain {@code variables} and
   * variable files; add sensitive variables and what else the caller has and build it.
   *
   * @throws InvalidOptionException naming {@code binary}, {@code variables} or {@code varFiles}
   *     when one cannot work (a blank name, a name that is not a Terraform identifier)
   * @throws NullPointerException naming the argument that is null
   */
  public static TerraformProvider.Builder builder(Path directory, String binary, Map<String, String> variables,
      List<String> varFiles) {
    java.util.Objects.requireNonNull(directory, "directory");
    java.util.Objects.requireNonNull(binary, "binary");
    java.util.Objects.requireNonNull(variables, "variables");
    java.util.Objects.requireNonNull(varFiles, "varFiles");
    TerraformProvider.Builder b = TerraformProvider.builder(directory.toAbsolutePath().normalize());
    if (binary.isBlank()) {
      throw new InvalidOptionException("binary", "must name a binary ('terraform', 'tofu') or give its path");
    }
    b.binary(binary);
    variables.forEach((name, value) -> option("variables", () -> b.variable(name, value)));
    varFiles.forEach(f -> option("varFiles", () -> b.varFile(f)));
    return b;
  }
}

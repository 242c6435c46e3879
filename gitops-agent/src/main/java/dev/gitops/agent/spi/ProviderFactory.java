package dev.gitops.agent.spi;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.api.spi.Provider;
import java.nio.file.Path;

/**
 * Makes the providers of one type ({@code provider: {type: files, ...}} in the agent's
 * configuration). The agent finds factories with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/dev.gitops.agent.spi.ProviderFactory}) or takes them from {@code
 * Agent.Builder.providerFactory}. The agent ships {@code files}, {@code kubernetes}, {@code
 * ansible} and {@code terraform} (package {@code dev.gitops.agent.providers}).
 *
 * <pre>{@code
 * public abstract class WidgetsFactory implements ProviderFactory {   // list a concrete subclass
 *   public String type() { return "widgets"; }
 *
 *   public Setup configure(ConfigNode options, TargetContext target) {
 *     options.allowOnly("type", "endpoint");
 *     URI endpoint = URI.create(options.string("endpoint"));
 *     return Setup.of("widgets", () -> provider(endpoint));    // made when the target starts
 *   }
 *
 *   protected abstract Provider provider(URI endpoint);        // your provider for that endpoint
 * }
 * }</pre>
 */
public interface ProviderFactory {

  /** The type named in the configuration. */
  String type();

  /**
   * Checks a target's provider options (the mapping under {@code provider:}, {@code type}
   * included) and returns what makes the provider when the target starts. Called for every load
   * and reload of the configuration, so it must not touch the live system.
   *
   * @throws dev.gitops.agent.config.ConfigException through {@code options.error(...)}, naming the
   *     file, line and field at fault
   */
  Setup configure(ConfigNode options, TargetContext target);

  /**
   * The target a provider is configured for.
   *
   * @param name the target's name
   * @param store the target's state store directory (a files provider keeps out of it)
   * @param stateDir the agent's state directory
   * @param readFiles whether to read the files the options name now (the agent does; {@code
   *     gitops status} reads a configuration without them, perhaps as another user)
   * @param source the repository the target reads: its URL, or a local repository's absolute path
   *     (null when not known)
   * @param sourcePath the directory inside the repository the target reads (null: the root)
   * @param environment where {@code {env: NAME}} secrets of the options are read ({@link
   *     dev.gitops.agent.config.SecretRef#resolve}): the agent's
   * @param adopt the target's {@code policies.adopt}: a provider that takes over what it finds only
   *     when asked (Terraform's working directory) takes it over
   */
  record TargetContext(String name, Path store, Path stateDir, boolean readFiles, String source, String sourcePath,
      java.util.Map<String, String> environment, boolean adopt) {

    /** Checks; the environment is kept as given. */
    public TargetContext {
      java.util.Objects.requireNonNull(environment, "environment");
    }

    /** A target whose {@code policies.adopt} is off. */
    public TargetContext(String name, Path store, Path stateDir, boolean readFiles, String source, String sourcePath,
        java.util.Map<String, String> environment) {
      this(name, store, stateDir, readFiles, source, sourcePath, environment, false);
    }

    /** A target reading secrets from the process's environment. */
    public TargetContext(String name, Path store, Path stateDir, boolean readFiles, String source, String sourcePath) {
      this(name, store, stateDir, readFiles, source, sourcePath, System.getenv());
    }

    /** A target whose repository is not known. */
    public TargetContext(String name, Path store, Path stateDir, boolean readFiles) {
      this(name, store, stateDir, readFiles, null, null);
    }
  }

  /** Makes a configured provider. */
  interface Setup {
    /** The id of the provider it makes (the {@code provider} tag of metrics, the provider of its keys). */
    String providerId();

    /** A new provider, when the target starts (again after a reload that changed it). */
    Provider create();

    /**
     * Files or directories the provider writes that no other target may write (an Ansible
     * target's managed inventory, a Terraform working directory, a files target's directory): the
     * configuration is refused when two targets claim the same path, or one inside the other
     * (links followed). Default: none.
     */
    default java.util.List<Path> claims() {
      return java.util.List.of();
    }

    /** A setup for provider {@code id} made by {@code create}. */
    static Setup of(String id, java.util.function.Supplier<Provider> create) {
      return of(id, create, java.util.List.of());
    }

    /** A setup for provider {@code id} made by {@code create}, claiming {@code claims} (see {@link #claims()}). */
    static Setup of(String id, java.util.function.Supplier<Provider> create, java.util.List<Path> claims) {
      java.util.Objects.requireNonNull(id, "id");
      java.util.Objects.requireNonNull(create, "create");
      java.util.List<Path> claimed = java.util.List.copyOf(claims);
      return new Setup() {
        @Override
        public String providerId() {
          return id;
        }

        @Override
        public Provider create() {
          return create.get();
        }

        @Override
        public java.util.List<Path> claims() {
          return claimed;
        }
      };
    }
  }
}

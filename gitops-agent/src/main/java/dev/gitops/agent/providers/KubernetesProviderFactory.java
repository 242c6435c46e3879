package dev.gitops.agent.providers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.k8s.KubernetesProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code kubernetes} provider type: a cluster kept in line with the manifests in the
 * repository (keys of provider {@code k8s}).
 *
 * <pre class="language-yaml">{@code
 * provider:
 *   type: kubernetes
 *   kubeconfig: /etc/gitops/kubeconfig   # default: KUBECONFIG, ~/.kube/config, or in-cluster
 *   context: prod                        # default: the kubeconfig's current context
 *   namespace: shop                      # of manifests that name none (default: default)
 * }</pre>
 *
 * <p>The kubeconfig is read when the configuration loads (a missing file or a context it does not
 * list fails the configuration at the option's line); the cluster is contacted only when the
 * target syncs. {@link #provider} is also what {@code gitops sync --provider k8s} runs.
 */
public final class KubernetesProviderFactory implements ProviderFactory {

  /** An RFC 1123 label, what Kubernetes accepts as a namespace name. */
  private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  @Override
  public String type() {
    return "kubernetes";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "kubeconfig", "context", "namespace");
    Path kubeconfig = options.optionalPath("kubeconfig").orElse(null);
    String context = options.optionalString("context").orElse(null);
    String namespace = options.optionalString("namespace").orElse(null);
    try {
      if (target.readFiles()) {
        check(kubeconfig, context, namespace);
      } else {
        checkNamespace(namespace);
      }
    } catch (InvalidOptionException e) {
      throw options.get(e.option()).error(e.getMessage());
    }
    return Setup.of("k8s", () -> provider(kubeconfig, context, namespace));
  }

  /**
   * Checks the options without contacting the cluster: the kubeconfig file (when given) is
   * readable YAML that lists {@code context} (when given), and {@code namespace} is a namespace name.
   *
   * @throws InvalidOptionException naming {@code kubeconfig}, {@code context} or {@code namespace}
   */
  public static void check(Path kubeconfig, String context, String namespace) {
    checkNamespace(namespace);
    if (kubeconfig == null) {
      return;
    }
    JsonNode parsed;
    try {
      parsed = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(kubeconfig));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new InvalidOptionException("kubeconfig", "no such file " + kubeconfig, e);
    } catch (IOException e) {
      throw new InvalidOptionException("kubeconfig", "cannot read " + kubeconfig + ": " + e.getMessage(), e);
    }
    if (parsed == null || !parsed.isObject()) {
      throw new InvalidOptionException("kubeconfig", kubeconfig + " is not a kubeconfig (a YAML mapping)");
    }
    if (context != null) {
      List<String> contexts = new ArrayList<>();
      parsed.path("contexts").forEach(c -> contexts.add(c.path("name").asText()));
      if (!contexts.contains(context)) {
        throw new InvalidOptionException("context", "no context '" + context + "' in " + kubeconfig + " (it has: "
            + (contexts.isEmpty() ? "none" : String.join(", ", contexts)) + ")");
      }
    }
  }

  private static void checkNamespace(String namespace) {
    if (namespace != null && !NAMESPACE.matcher(namespace).matches()) {
      throw new InvalidOptionException("namespace", "'" + namespace + "' is not a namespace name: lower-case letters,"
          + " digits and '-', starting and ending with a letter or digit, at most 63 characters");
    }
  }

  /**
   * The cluster {@code kubeconfig} and {@code context} name, as {@code context NAME at SERVER}
   * (the file's current context when {@code context} is null), read from the file alone.
   *
   * @throws InvalidOptionException naming the option when the kubeconfig cannot be used
   */
  public static String cluster(Path kubeconfig, String context) {
    check(kubeconfig, context, null);
    try {
      return KubernetesProvider.clusterOf(kubeconfig, context);
    } catch (IllegalArgumentException e) {
      throw new InvalidOptionException("kubeconfig", e.getMessage(), e);
    }
  }

  /**
   * The Kubernetes provider (id {@code k8s}) of the cluster {@code kubeconfig} and {@code context}
   * name; it owns (and closes) its client.
   *
   * @param kubeconfig the kubeconfig file, or null for the default (KUBECONFIG, ~/.kube/config, in-cluster)
   * @param context the context, or null for the current one
   * @param namespace the namespace of manifests that name none, or null for {@code default}
   * @throws InvalidOptionException naming the option when the kubeconfig cannot be used
   */
  public static KubernetesProvider provider(Path kubeconfig, String context, String namespace) {
    check(kubeconfig, context, namespace);
    KubernetesProvider.Builder b;
    try {
      b = KubernetesProvider.fromKubeconfig(kubeconfig, context);
    } catch (IllegalArgumentException e) {
      throw new InvalidOptionException("kubeconfig", e.getMessage(), e);
    }
    if (namespace != null) {
      b.defaultNamespace(namespace);
    }
    return b.build();
  }
}

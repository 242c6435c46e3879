package dev.gitops.agent.providers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.internal.JsonErrors;
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
 *   namespaces: [shop, shop-staging]     # list namespaced kinds only here (default: every namespace)
 * }</pre>
 *
 * <p>The kubeconfig is read when the configuration loads (a missing file or a context it does not
 * list fails the configuration at the option's line); the cluster is contacted only when the
 * target syncs. {@code namespaces} is for credentials bound to some namespaces only (a Role per
 * namespace, no ClusterRole): namespaced kinds are then listed only in those namespaces, never
 * cluster-wide, and keys elsewhere are UNKNOWN ({@link KubernetesProvider.Builder#namespaces}).
 * {@link #provider} is also what {@code gitops sync --provider k8s} runs.
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
    options.allowOnly("type", "kubeconfig", "context", "namespace", "namespaces");
    Path kubeconfig = options.optionalPath("kubeconfig").orElse(null);
    String context = options.optionalString("context").orElse(null);
    String namespace = options.optionalString("namespace").orElse(null);
    List<String> namespaces = namespaces(options);
    try {
      if (target.readFiles()) {
        check(kubeconfig, context, namespace);
      } else {
        checkNamespace(namespace);
      }
    } catch (InvalidOptionException e) {
      throw options.get(e.option()).error(e.getMessage());
    }
    return Setup.of("k8s", () -> provider(kubeconfig, context, namespace, namespaces));
  }

  /**
   * The {@code namespaces} option: a list of namespace names (or one name), each refused at its own
   * line when it is not one; an empty list is refused (leave the option out for every namespace).
   */
  private static List<String> namespaces(ConfigNode options) {
    ConfigNode field = options.get("namespaces");
    if (field.isAbsent()) {
      return List.of();
    }
    List<ConfigNode> elements = field.json().isArray() ? options.list("namespaces") : List.of(field);
    if (elements.isEmpty()) {
      throw field.error("is an empty list: name the namespaces to list namespaced kinds in, or leave the field out"
          + " to list them in every namespace");
    }
    List<String> out = new ArrayList<>();
    for (ConfigNode e : elements) {
      if (e.json().isNumber()) {
        throw e.error("YAML reads " + e.json().asText() + " as a number; quote it if that namespace is meant");
      }
      if (!e.json().isTextual()) {
        throw e.error("must be a namespace name, got " + (e.json().isNull() ? "no value" : e.json().toString()));
      }
      try {
        checkNamespaces(List.of(e.json().asText()));
      } catch (InvalidOptionException bad) {
        throw e.error(bad.getMessage());
      }
      out.add(e.json().asText());
    }
    return List.copyOf(out);
  }

  /**
   * Checks the values of {@code namespaces}: each a namespace name.
   *
   * <pre>{@code
   * KubernetesProviderFactory.checkNamespaces(List.of("shop", "shop-staging"));
   * }</pre>
   *
   * @throws InvalidOptionException naming {@code namespaces} and the first value that is not a namespace name
   */
  public static void checkNamespaces(List<String> namespaces) {
    for (String n : namespaces) {
      if (n == null || !NAMESPACE.matcher(n).matches()) {
        throw new InvalidOptionException("namespaces", notANamespace(n));
      }
    }
  }

  private static String notANamespace(String value) {
    return "'" + value + "' is not a namespace name: lower-case letters, digits and '-', starting and ending with a"
        + " letter or digit, at most 63 characters";
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
      throw new InvalidOptionException("kubeconfig", "cannot read " + kubeconfig + ": " + JsonErrors.describe(e), e);
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
      throw new InvalidOptionException("namespace", notANamespace(namespace));
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
    return provider(kubeconfig, context, namespace, List.of());
  }

  /**
   * The Kubernetes provider (id {@code k8s}) of the cluster {@code kubeconfig} and {@code context}
   * name, listing namespaced kinds only in {@code namespaces} when it names any; it owns (and
   * closes) its client.
   *
   * <pre>{@code
   * KubernetesProvider k8s = KubernetesProviderFactory.provider(null, "prod", "shop", List.of("shop", "shop-staging"));
   * }</pre>
   *
   * @param kubeconfig the kubeconfig file, or null for the default (KUBECONFIG, ~/.kube/config, in-cluster)
   * @param context the context, or null for the current one
   * @param namespace the namespace of manifests that name none, or null for {@code default}
   * @param namespaces the only namespaces namespaced kinds are listed in, or empty for all of them
   * @throws InvalidOptionException naming the option when the kubeconfig cannot be used or a value
   *     of {@code namespaces} is not a namespace name
   */
  public static KubernetesProvider provider(Path kubeconfig, String context, String namespace,
      List<String> namespaces) {
    check(kubeconfig, context, namespace);
    checkNamespaces(namespaces);
    KubernetesProvider.Builder b;
    try {
      b = KubernetesProvider.fromKubeconfig(kubeconfig, context);
    } catch (IllegalArgumentException e) {
      throw new InvalidOptionException("kubeconfig", e.getMessage(), e);
    }
    if (namespace != null) {
      b.defaultNamespace(namespace);
    }
    if (!namespaces.isEmpty()) {
      b.namespaces(namespaces.toArray(String[]::new));
    }
    return b.build();
  }
}

package dev.gitops.images.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Policies read from Flux's own manifests, so one file serves both Flux and this tool: {@code
 * ImageRepository} ({@code spec.image}, {@code spec.exclusionList}, {@code spec.insecure}) and
 * {@code ImagePolicy} ({@code spec.imageRepositoryRef}, {@code spec.policy.semver.range}, {@code
 * .alphabetical.order}, {@code .numerical.order}, {@code spec.filterTags.pattern}/{@code extract},
 * {@code spec.digestReflectionPolicy}) of {@code image.toolkit.fluxcd.io}. A policy is named
 * {@code <namespace>:<name>}, as Flux's markers name it; the namespace defaults to {@code
 * flux-system}. Other documents are ignored.
 *
 * <pre>{@code
 * FluxPolicies flux = FluxPolicies.read(Path.of("clusters/prod/image-automation.yaml"));
 * flux.policies();      // ImagePolicy objects
 * flux.plainHttp();     // registries of ImageRepositories marked insecure: true
 * }</pre>
 *
 * @param policies the policies, in file order
 * @param plainHttp registry hosts whose {@code ImageRepository} says {@code insecure: true}
 */
public record FluxPolicies(List<ImagePolicy> policies, Set<String> plainHttp) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DEFAULT_NAMESPACE = "flux-system";

  /** A result. */
  public FluxPolicies {
    policies = List.copyOf(policies);
    plainHttp = Set.copyOf(plainHttp);
  }

  /**
   * Reads {@code file} (one or more YAML documents).
   *
   * @throws IllegalArgumentException naming the file and document when something is missing or wrong
   */
  public static FluxPolicies read(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("policy file " + file + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("policy file " + file + " cannot be read: " + e.getMessage(), e);
    }
    LoaderOptions o = new LoaderOptions();
    o.setMaxAliasesForCollections(50);
    o.setNestingDepthLimit(50);
    Map<String, JsonNode> repositories = new LinkedHashMap<>();
    List<ObjectNode> policyDocs = new ArrayList<>();
    try {
      for (Object doc : new Yaml(new SafeConstructor(o)).loadAll(new StringReader(text))) {
        if (doc == null) {
          continue;
        }
        JsonNode n = JSON.valueToTree(doc);
        String kind = n.path("kind").asText("");
        if (!n.path("apiVersion").asText("").startsWith("image.toolkit.fluxcd.io/")) {
          continue;
        }
        if (kind.equals("ImageRepository")) {
          repositories.put(id(n), n);
        } else if (kind.equals("ImagePolicy")) {
          policyDocs.add((ObjectNode) n);
        }
      }
    } catch (YAMLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("policy file " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    List<ImagePolicy> policies = new ArrayList<>();
    Set<String> plain = new LinkedHashSet<>();
    Set<String> names = new java.util.HashSet<>();
    for (ObjectNode p : policyDocs) {
      String name = id(p);
      String where = "policy file " + file + ", ImagePolicy " + name + ": ";
      if (!names.add(name)) {
        throw new IllegalArgumentException(where + "a second ImagePolicy with this namespace and name (each marker "
            + "names one policy)");
      }
      JsonNode ref = p.path("spec").path("imageRepositoryRef");
      String repoId = ref.path("namespace").asText(namespace(p)) + ":" + ref.path("name").asText("");
      JsonNode repo = repositories.get(repoId);
      if (repo == null) {
        throw new IllegalArgumentException(where + "spec.imageRepositoryRef names ImageRepository " + repoId
            + ", which the file does not hold");
      }
      String image = repo.path("spec").path("image").asText("");
      try {
        ImagePolicy.Builder b = ImagePolicy.builder(name, image).order(order(p.path("spec").path("policy")));
        JsonNode filter = p.path("spec").path("filterTags");
        if (filter.hasNonNull("pattern")) {
          b.filter(TagFilter.of(filter.get("pattern").asText(), filter.path("extract").asText("")));
        }
        if (repo.path("spec").has("exclusionList")) {
          List<String> ex = new ArrayList<>();
          repo.path("spec").path("exclusionList").forEach(x -> ex.add(x.asText()));
          b.exclusions(ex);
        }
        String digest = p.path("spec").path("digestReflectionPolicy").asText("Never");
        // Flux's enum; IfNotPresent is read as Always (the digest of the chosen tag, read each scan):
        // this tool keeps no status between runs to remember a digest in
        b.followDigest(switch (digest) {
          case "Never" -> false;
          case "Always", "IfNotPresent" -> true;
          default -> throw new IllegalArgumentException("spec.digestReflectionPolicy '" + digest
              + "' must be Never, IfNotPresent or Always");
        });
        ImagePolicy built = b.build();
        policies.add(built);
        if (repo.path("spec").path("insecure").asBoolean(false)) {
          plain.add(built.image().registry());
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
    }
    return new FluxPolicies(policies, plain);
  }

  private static TagOrder order(JsonNode policy) {
    if (policy.has("semver")) {
      return TagOrder.semver(policy.path("semver").path("range").asText(""));
    }
    if (policy.has("alphabetical")) {
      return TagOrder.alphabetical(direction(policy.path("alphabetical").path("order").asText("asc")));
    }
    if (policy.has("numerical")) {
      return TagOrder.numerical(direction(policy.path("numerical").path("order").asText("asc")));
    }
    throw new IllegalArgumentException("spec.policy needs one of semver, alphabetical, numerical");
  }

  private static TagOrder.Direction direction(String order) {
    return switch (order.toLowerCase(Locale.ROOT)) {
      case "asc" -> TagOrder.Direction.ASC;
      case "desc" -> TagOrder.Direction.DESC;
      default -> throw new IllegalArgumentException("order '" + order + "' must be asc or desc");
    };
  }

  private static String namespace(JsonNode n) {
    return n.path("metadata").path("namespace").asText(DEFAULT_NAMESPACE);
  }

  private static String id(JsonNode n) {
    return namespace(n) + ":" + n.path("metadata").path("name").asText("");
  }
}

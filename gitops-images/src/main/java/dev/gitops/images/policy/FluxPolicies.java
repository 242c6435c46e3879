package dev.gitops.images.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import dev.gitops.core.internal.Durations;
import dev.gitops.images.registry.ImageReference;
import dev.gitops.images.registry.RegistryClient;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Policies read from Flux's own manifests, so one file serves both Flux and this tool: {@code
 * ImageRepository} ({@code spec.image}, {@code spec.exclusionList}, {@code spec.insecure}, {@code
 * spec.timeout}) and
 * {@code ImagePolicy} ({@code spec.imageRepositoryRef}, {@code spec.policy.semver.range}, {@code
 * .alphabetical.order}, {@code .numerical.order}, {@code spec.filterTags.pattern}/{@code extract},
 * {@code spec.digestReflectionPolicy}) of {@code image.toolkit.fluxcd.io}. A policy is named
 * {@code <namespace>:<name>}, as Flux's markers name it; the namespace defaults to {@code
 * flux-system}. Other documents are ignored, and so are the {@code ImageRepository} fields this
 * tool does not act on, each said in {@link #unsupported()}. A policy whose {@code ImagePolicy} or
 * {@code ImageRepository} says {@code spec.suspend: true} is read and checked but not among {@link
 * #policies()}: Flux scans nothing for it, so nothing is chosen for its markers; it is in {@link
 * #suspended()} with why.
 *
 * <p>An {@code ImageRepository}'s {@code spec.timeout} (a Go duration: {@code 60s}, {@code 1m30s},
 * {@code 500ms}; units {@code ns}, {@code us}, {@code ms}, {@code s}, {@code m}, {@code h}) bounds
 * the reads of its repository, as Flux bounds its scan: the listing of its tags, every page, retry
 * and the token fetch together ({@link ImagePolicy#listTimeout()}), and each digest read of a policy
 * whose {@code spec.digestReflectionPolicy} is {@code Always} or {@code IfNotPresent}. Like Flux, a
 * timeout under one second, zero ({@code 0s}) included, is taken as one second. A read that takes
 * longer fails the policies it was made for with an error naming the repository, the timeout and
 * the document with its line; other repositories are still scanned. Without it, {@code
 * spec.interval} bounds them the same way, as Flux takes the interval for the timeout then; with
 * neither, the registry client's own {@link RegistryClient.Builder#listTimeout} bounds a listing
 * and each digest read's requests are bounded by the request timeout alone. A {@code spec.timeout}
 * or {@code spec.interval} that is no duration, or is negative, is refused naming the file, the
 * document, the field and its line.
 *
 * <pre>{@code
 * FluxPolicies flux = FluxPolicies.read(Path.of("clusters/prod/image-automation.yaml"));
 * flux.policies();      // ImagePolicy objects
 * flux.plainHttp();     // registries of ImageRepositories marked insecure: true
 * flux.suspended();     // apps:web -> "ImageRepository apps:web says spec.suspend: true (line 7)"
 * flux.unsupported().forEach(log::warn);   // "..., ImageRepository apps:web: spec.secretRef (line 9) is not supported ..."
 * }</pre>
 *
 * @param policies the policies, in file order
 * @param plainHttp registry hosts whose {@code ImageRepository} says {@code insecure: true}
 * @param suspended the policies left out because they or their {@code ImageRepository} are
 *     suspended, each with why (the document and the line)
 * @param unsupported what an {@code ImageRepository} asks that this tool does not do, one line for
 *     each document and field, naming the file, the document, the field and its line: {@code
 *     spec.secretRef} and {@code
 *     spec.serviceAccountName} (no Kubernetes Secret is read: logins come from a Docker {@code
 *     config.json}), {@code spec.certSecretRef} (CA certificates come from the client's own),
 *     {@code spec.proxySecretRef} (no proxy is set), {@code spec.provider} other than {@code
 *     generic} (no cloud login); what the file asks is read all the same, and the scan goes on
 */
public record FluxPolicies(List<ImagePolicy> policies, Set<String> plainHttp, Map<String, String> suspended,
    List<String> unsupported) {

  /**
   * The {@code ImageRepository} fields Flux acts on that this tool does not, with what applies
   * instead (for {@link #unsupported()}).
   */
  private static final Map<String, String> UNSUPPORTED = unsupportedFields();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DEFAULT_NAMESPACE = "flux-system";

  /** A result. */
  public FluxPolicies {
    policies = List.copyOf(policies);
    plainHttp = Set.copyOf(plainHttp);
    suspended = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(suspended));
    unsupported = List.copyOf(unsupported);
  }

  /** A result without fields this tool does not support. */
  public FluxPolicies(List<ImagePolicy> policies, Set<String> plainHttp, Map<String, String> suspended) {
    this(policies, plainHttp, suspended, List.of());
  }

  /** A result without suspended policies. */
  public FluxPolicies(List<ImagePolicy> policies, Set<String> plainHttp) {
    this(policies, plainHttp, Map.of());
  }

  private static Map<String, String> unsupportedFields() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("secretRef", "no Kubernetes Secret is read; the login comes from a Docker config.json"
        + " (RegistryCredentials.dockerConfig, the CLI's --docker-config), else none");
    m.put("serviceAccountName", "no Kubernetes service account's image pull secrets are read; the login comes from"
        + " a Docker config.json (RegistryCredentials.dockerConfig, the CLI's --docker-config), else none");
    m.put("certSecretRef", "no Kubernetes Secret is read; extra CA certificates come from"
        + " RegistryClient.Builder.trustCertificates (the CLI's --ca-file), besides the JDK's");
    m.put("proxySecretRef", "no proxy is set; the registry is asked directly");
    m.put("provider", "no cloud provider login (aws, azure, gcp) is made; the login comes from a Docker config.json"
        + " (the CLI's --docker-config), else none");
    return java.util.Collections.unmodifiableMap(m);
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
    Map<String, Doc> repositories = new LinkedHashMap<>();
    Map<String, Duration> timeouts = new LinkedHashMap<>();
    List<Doc> policyDocs = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    try {
      Constructor constructor = new Constructor(o);
      for (Node root : new Yaml(constructor).composeAll(new StringReader(text))) {
        Object doc = root == null ? null : constructor.construct(root);
        if (doc == null) {
          continue;
        }
        JsonNode n = JSON.valueToTree(doc);
        String kind = n.path("kind").asText("");
        if (!n.path("apiVersion").asText("").startsWith("image.toolkit.fluxcd.io/")) {
          continue;
        }
        if (kind.equals("ImageRepository") || kind.equals("ImagePolicy")) {
          JsonNode name = n.path("metadata").path("name");
          if (!name.isTextual() || name.asText().isEmpty()) {
            throw new BadDocument("policy file " + file + ", " + kind + " at line " + line(root)
                + ": metadata.name " + (name.isMissingNode() || name.isNull() ? "is missing" : "must be a non-empty string"
                + (name.isTextual() ? "" : ", not " + describe(name))));
          }
          Doc d = new Doc((ObjectNode) n, root);
          if (kind.equals("ImageRepository")) {
            repositories.put(id(n), d);
            sayUnsupported(file, id(n), d, unsupported);
            Duration interval = timeout(file, id(n), d, "interval");
            Duration timeout = timeout(file, id(n), d, "timeout");
            if (timeout != null || interval != null) {
              timeouts.put(id(n), timeout != null ? timeout : interval);
            }
          } else {
            policyDocs.add(d);
          }
        }
      }
    } catch (YAMLException | IllegalArgumentException e) {
      if (e instanceof BadDocument) {
        throw e;
      }
      throw new IllegalArgumentException("policy file " + file + " is not valid YAML" + yamlError(e), e);
    }
    List<ImagePolicy> policies = new ArrayList<>();
    Map<String, String> suspended = new LinkedHashMap<>();
    Set<String> plain = new LinkedHashSet<>();
    Set<String> names = new java.util.HashSet<>();
    for (Doc pd : policyDocs) {
      ObjectNode p = pd.json();
      String name = id(p);
      String where = "policy file " + file + ", ImagePolicy " + name + ": ";
      if (!names.add(name)) {
        throw new IllegalArgumentException(where + "a second ImagePolicy with this namespace and name (line "
            + line(pd.node()) + "; each marker names one policy)");
      }
      JsonNode ref = p.path("spec").path("imageRepositoryRef");
      String repoId = ref.path("namespace").asText(namespace(p)) + ":" + ref.path("name").asText("");
      Doc repoDoc = repositories.get(repoId);
      if (repoDoc == null) {
        throw new IllegalArgumentException(where + "spec.imageRepositoryRef (line "
            + line(pd.node(), "spec", "imageRepositoryRef") + ") names ImageRepository " + repoId
            + ", which the file does not hold");
      }
      JsonNode repo = repoDoc.json();
      JsonNode imageNode = repo.path("spec").path("image");
      try {
        String image;
        try {
          image = imageNode.isMissingNode() || imageNode.isNull() ? ""
              : string(imageNode, "an image repository such as ghcr.io/org/app", repoDoc.node(), "spec", "image");
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("ImageRepository " + repoId + ": " + e.getMessage(), e);
        }
        ImagePolicy.Builder b;
        try {
          b = ImagePolicy.builder(name, image);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("spec.image of ImageRepository " + repoId + " (line "
              + line(repoDoc.node(), "spec", "image") + "): " + e.getMessage(), e);
        }
        b.order(order(p.path("spec").path("policy"), pd.node()));
        if (timeouts.containsKey(repoId)) {
          String field = repo.path("spec").hasNonNull("timeout") ? "timeout" : "interval";
          b.listTimeout(timeouts.get(repoId), "spec." + field + " of ImageRepository " + repoId + " (policy file " + file
              + ", line " + line(repoDoc.node(), "spec", field) + (field.equals("interval")
              ? "; Flux's timeout when spec.timeout is not set" : "") + ")");
        }
        JsonNode filter = p.path("spec").path("filterTags");
        if (filter.hasNonNull("pattern")) {
          String pattern = string(filter.get("pattern"), "a regular expression", pd.node(), "spec", "filterTags", "pattern");
          String extract = filter.hasNonNull("extract")
              ? string(filter.get("extract"), "a template", pd.node(), "spec", "filterTags", "extract") : "";
          try {
            TagFilter.of(pattern, "");
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("spec.filterTags.pattern (line "
                + line(pd.node(), "spec", "filterTags", "pattern") + "): " + e.getMessage(), e);
          }
          try {
            b.filter(TagFilter.of(pattern, extract));
          } catch (IllegalArgumentException e) {
            // the pattern compiled: the template names a group it does not have
            throw new IllegalArgumentException("spec.filterTags.extract (line "
                + line(pd.node(), "spec", "filterTags", "extract") + "): " + e.getMessage(), e);
          }
        }
        if (repo.path("spec").hasNonNull("exclusionList")) {
          JsonNode list = repo.path("spec").path("exclusionList");
          if (!list.isArray()) {
            throw new IllegalArgumentException("spec.exclusionList of ImageRepository " + repoId + " must be a list of"
                + " strings, not " + describe(list) + " (line " + line(repoDoc.node(), "spec", "exclusionList") + ")");
          }
          List<String> ex = new ArrayList<>();
          for (int i = 0; i < list.size(); i++) {
            JsonNode x = list.get(i);
            if (!x.isTextual()) {
              throw new IllegalArgumentException("spec.exclusionList[" + i + "] of ImageRepository " + repoId
                  + " must be a string (a regular expression), not " + describe(x)
                  + " (line " + line(repoDoc.node(), "spec", "exclusionList", String.valueOf(i)) + ")");
            }
            try {
              RegistryClient.compile(List.of(x.asText()));
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException("spec.exclusionList[" + i + "] of ImageRepository " + repoId + " (line "
                  + line(repoDoc.node(), "spec", "exclusionList", String.valueOf(i)) + "): " + e.getMessage(), e);
            }
            ex.add(x.asText());
          }
          b.exclusions(ex);
        }
        JsonNode reflection = p.path("spec").path("digestReflectionPolicy");
        String digest = reflection.isMissingNode() || reflection.isNull() ? "Never"
            : string(reflection, "Never, IfNotPresent or Always", pd.node(), "spec", "digestReflectionPolicy");
        // Flux's enum; IfNotPresent is read as Always (the digest of the chosen tag, read each scan):
        // this tool keeps no status between runs to remember a digest in
        b.followDigest(switch (digest) {
          case "Never" -> false;
          case "Always", "IfNotPresent" -> true;
          default -> throw new IllegalArgumentException("spec.digestReflectionPolicy '" + digest
              + "' (line " + line(pd.node(), "spec", "digestReflectionPolicy") + ") must be Never, IfNotPresent or Always");
        });
        ImagePolicy built = b.build();
        // Flux scans nothing for a suspended policy or repository ('flux suspend image repository'): no choice
        String why = p.path("spec").path("suspend").asBoolean(false)
            ? "ImagePolicy " + name + " says spec.suspend: true (line " + line(pd.node(), "spec", "suspend") + ")"
            : repo.path("spec").path("suspend").asBoolean(false)
            ? "ImageRepository " + repoId + " says spec.suspend: true (line " + line(repoDoc.node(), "spec", "suspend") + ")"
            : null;
        if (why != null) {
          suspended.put(name, why);
          continue;
        }
        policies.add(built);
        if (repo.path("spec").path("insecure").asBoolean(false)) {
          plain.add(built.image().registry());
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
    }
    return new FluxPolicies(policies, plain, suspended, unsupported);
  }

  /**
   * Where and why SnakeYAML could not read the file, on one line ({@code " at line 6, column 1: while
   * scanning for the next token: found character '\t(TAB)' that cannot start any token"}), without
   * the excerpt and caret lines its message holds.
   */
  private static String yamlError(RuntimeException e) {
    if (e instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblem() != null) {
      org.yaml.snakeyaml.error.Mark at = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
      String where = at == null ? "" : " at line " + (at.getLine() + 1) + ", column " + (at.getColumn() + 1);
      String context = m.getContext() == null ? "" : m.getContext().strip() + ": ";
      return where + ": " + dev.gitops.core.render.PlanRenderer.oneLine(context + m.getProblem().strip());
    }
    return ": " + dev.gitops.core.render.PlanRenderer.oneLine(String.valueOf(e.getMessage()));
  }

  /** A line for each field of an ImageRepository's spec that Flux acts on and this tool does not. */
  private static void sayUnsupported(Path file, String id, Doc repo, List<String> out) {
    JsonNode spec = repo.json().path("spec");
    UNSUPPORTED.forEach((field, instead) -> {
      JsonNode v = spec.path(field);
      if (v.isMissingNode() || v.isNull() || (field.equals("provider") && v.isTextual() && v.asText().equals("generic"))) {
        return;  // absent, or Flux's default (provider: generic is no cloud login either)
      }
      out.add("policy file " + file + ", ImageRepository " + id + ": spec." + field + " (line "
          + line(repo.node(), "spec", field) + ") is not supported and is ignored: " + instead);
    });
  }

  /**
   * The {@code spec.timeout} of an ImageRepository, or null when it has none: a Go duration, zero
   * or positive, raised to one second when shorter (zero included), as Flux's {@code
   * ImageRepository.GetTimeout} does ({@code if duration < time.Second { return time.Second }});
   * Flux's CRD admits {@code 0s}.
   *
   * @throws BadDocument naming the file, the document, the field and its line when it is no
   *     duration or is negative
   */
  /**
   * {@code spec.timeout} or {@code spec.interval} ({@code field}) of {@code repo} as the bound of
   * its reads (under 1 s taken as 1 s, as Flux's {@code GetTimeout} takes it), or null when absent.
   */
  private static Duration timeout(Path file, String id, Doc repo, String field) {
    JsonNode v = repo.json().path("spec").path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    String at = "policy file " + file + ", ImageRepository " + id + ": spec." + field + " (line "
        + line(repo.node(), "spec", field) + ")";
    if (!v.isTextual()) {
      throw new BadDocument(at + " must be a string, a duration such as 60s or 1m30s, not " + describe(v));
    }
    Duration d;
    try {
      d = GoDuration.parse(v.asText());
    } catch (IllegalArgumentException e) {
      throw new BadDocument(at + ": " + e.getMessage(), e);
    }
    if (d.isNegative()) {
      throw new BadDocument(at + " must not be negative, not " + ImageReference.quoted(v.asText())
          + (field.equals("timeout") ? ": it bounds how long reading the repository may take"
          : ": it is how often Flux scans the repository, and bounds how long reading it may take without spec.timeout")
          + " (zero and anything under 1 s are taken as 1 s)");
    }
    if (d.compareTo(Durations.MAX) > 0) {
      throw new BadDocument(at + " must be at most " + Durations.MAX.toDays() + " days, not "
          + ImageReference.quoted(v.asText()));
    }
    return d.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : d;
  }

  /** A document with the YAML node it was read from, for line numbers. */
  private record Doc(ObjectNode json, Node node) {}

  /** A mistake in a document, which is not a YAML syntax error. */
  private static final class BadDocument extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    BadDocument(String message) {
      super(message);
    }

    BadDocument(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** The safe constructor, constructing one composed document at a time. */
  private static final class Constructor extends SafeConstructor {
    Constructor(LoaderOptions options) {
      super(options);
    }

    Object construct(Node root) {
      return constructDocument(root);
    }
  }

  /** The text of {@code value}, which must be a string, at {@code path} of the document {@code root}. */
  private static String string(JsonNode value, String what, Node root, String... path) {
    if (!value.isTextual()) {
      throw new IllegalArgumentException(String.join(".", path) + " must be a string (" + what + "), not "
          + describe(value) + " (line " + line(root, path) + ")");
    }
    return value.asText();
  }

  private static String describe(JsonNode n) {
    return switch (n.getNodeType()) {
      case OBJECT -> "a mapping";
      case ARRAY -> "a list";
      case NULL, MISSING -> "null";
      case BOOLEAN -> "the boolean " + n.asText();
      case NUMBER -> "the number " + n.asText();
      case STRING -> "a string";
      default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
    };
  }

  /** The 1-based line of the node at {@code path} (mapping keys, or list indexes) of {@code root}, or of the deepest found. */
  private static int line(Node root, String... path) {
    Node n = root;
    for (String step : path) {
      Node next = null;
      if (n instanceof MappingNode m) {
        for (NodeTuple t : m.getValue()) {
          if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(step)) {
            next = t.getValueNode();
          }
        }
      } else if (n instanceof SequenceNode s && step.chars().allMatch(Character::isDigit)
          && Integer.parseInt(step) < s.getValue().size()) {
        next = s.getValue().get(Integer.parseInt(step));
      }
      if (next == null) {
        break;
      }
      n = next;
    }
    return n.getStartMark().getLine() + 1;
  }

  /** The order of {@code spec.policy}; a range or an order that is not a string (1.2, true, null) is named with its line. */
  private static TagOrder order(JsonNode policy, Node root) {
    List<String> kinds = java.util.stream.Stream.of("semver", "alphabetical", "numerical").filter(policy::has).toList();
    if (kinds.size() > 1) {
      // Flux's ImagePolicyChoice is a union (at most one property): using one of them would be a guess
      throw new IllegalArgumentException("spec.policy (line " + line(root, "spec", "policy") + ") names "
          + String.join(" and ", kinds) + "; it takes exactly one of semver, alphabetical, numerical");
    }
    if (policy.has("semver")) {
      JsonNode range = policy.path("semver").path("range");
      String text = string(range, "a semver range such as '>=1.0.0 <2.0.0'", root, "spec", "policy", "semver", "range");
      try {
        return TagOrder.semver(text);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("spec.policy.semver.range (line "
            + line(root, "spec", "policy", "semver", "range") + "): " + e.getMessage(), e);
      }
    }
    for (String kind : List.of("alphabetical", "numerical")) {
      if (policy.has(kind)) {
        JsonNode order = policy.path(kind).path("order");
        String text = order.isMissingNode() || order.isNull() ? "asc"
            : string(order, "asc or desc", root, "spec", "policy", kind, "order");
        TagOrder.Direction d;
        try {
          d = direction(text);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("spec.policy." + kind + ".order (line "
              + line(root, "spec", "policy", kind, "order") + "): " + e.getMessage(), e);
        }
        return kind.equals("numerical") ? TagOrder.numerical(d) : TagOrder.alphabetical(d);
      }
    }
    throw new IllegalArgumentException("spec.policy (line " + line(root, "spec", "policy")
        + ") needs one of semver, alphabetical, numerical");
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

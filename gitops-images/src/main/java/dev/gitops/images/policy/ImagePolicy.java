package dev.gitops.images.policy;

import dev.gitops.core.internal.Durations;
import dev.gitops.images.registry.ImageReference;
import dev.gitops.images.registry.RegistryClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which tag of one image repository to deploy: a name (what markers in Git refer to, Flux style
 * {@code <namespace>:<name>}), the image, a {@link TagFilter}, a {@link TagOrder}, exclusions, and
 * whether to follow the digest the chosen tag points at.
 *
 * <pre>{@code
 * ImagePolicy web = ImagePolicy.builder("apps:web", "registry.example.com/team/web")
 *     .order(TagOrder.semver(">=1.0.0 <2.0.0"))
 *     .build();
 * ImagePolicy nightly = ImagePolicy.builder("apps:nightly", "registry.example.com/team/web")
 *     .filter(TagFilter.of("^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts"))
 *     .order(TagOrder.numerical(TagOrder.Direction.ASC))
 *     .build();
 * ImagePolicy latest = ImagePolicy.builder("apps:edge", "registry.example.com/team/web")
 *     .filter(TagFilter.of("^latest$", ""))
 *     .order(TagOrder.alphabetical(TagOrder.Direction.ASC))
 *     .followDigest(true)                      // "latest" moves: write its digest
 *     .listTimeout(Duration.ofSeconds(60))     // the tag listing and the digest read, as Flux's spec.timeout
 *     .build();
 * }</pre>
 */
public final class ImagePolicy {

  /** The outcome of {@link #select}: the tag taken, if any, and how many tags were candidates or skipped. */
  public record Selection(Optional<String> tag, int candidates, int skipped) {}

  private final String name;
  private final ImageReference image;
  private final TagFilter filter;
  private final TagOrder order;
  private final List<String> exclusions;
  private final boolean followDigest;
  private final Optional<Duration> listTimeout;
  private final String listTimeoutSource;

  private ImagePolicy(Builder b) {
    this.name = b.name;
    this.image = b.image;
    this.filter = b.filter;
    this.order = Objects.requireNonNull(b.order, "policy " + b.name + ": an order (semver, alphabetical or numerical) is required");
    this.exclusions = List.copyOf(b.exclusions);
    this.followDigest = b.followDigest;
    this.listTimeout = Optional.ofNullable(b.listTimeout);
    this.listTimeoutSource = b.listTimeoutSource;
  }

  /**
   * A builder for policy {@code name} over {@code image} (a name without tag or digest).
   *
   * @throws IllegalArgumentException naming the policy when the image is not a valid reference or has a tag
   */
  public static Builder builder(String name, String image) {
    return new Builder(name, image);
  }

  /** The name markers refer to. */
  public String name() {
    return name;
  }

  /** The image repository, as written (no tag). */
  public ImageReference image() {
    return image;
  }

  /** The filter. */
  public TagFilter filter() {
    return filter;
  }

  /** The order. */
  public TagOrder order() {
    return order;
  }

  /** Patterns of tags dropped before anything else ({@link RegistryClient#DEFAULT_EXCLUSIONS} unless set). */
  public List<String> exclusions() {
    return exclusions;
  }

  /** Whether the digest of the chosen tag is read and written (for tags that move, such as {@code latest}). */
  public boolean followDigest() {
    return followDigest;
  }

  /**
   * How long listing the tags of this policy's image repository may take, all its pages, retries
   * and the token fetch together ({@link RegistryClient#listTags(ImageReference, List, Duration)});
   * empty: the registry client's own {@link RegistryClient.Builder#listTimeout}. When the policy
   * {@linkplain #followDigest() follows the digest}, reading it is bounded by this too, on its own
   * ({@link RegistryClient#digest(ImageReference, String, Duration)}; empty: by the request timeout
   * alone). A listing that takes longer fails this policy (and the others listing the same
   * repository with it) alone, and so does a digest read.
   */
  public Optional<Duration> listTimeout() {
    return listTimeout;
  }

  /**
   * Where {@link #listTimeout()} was set, for messages ({@code "spec.timeout of ImageRepository
   * apps:web (policy file images.yaml, line 7)"}); empty when it was given without one, or not set.
   */
  public String listTimeoutSource() {
    return listTimeoutSource;
  }

  /**
   * Chooses among {@code tags} (already without excluded ones): tags the filter does not match or
   * the order cannot read (or a semver range leaves out) are skipped and counted, never an error;
   * so are entries that are not strings (a number, a boolean or null, as a list read from YAML or
   * JSON may hold: {@code [1.10, true, ~]}).
   *
   * @throws PatternTooSlowException naming this policy and its filter pattern when the pattern
   *     backtracks past its budget on a tag
   */
  public Selection select(List<?> tags) {
    List<TagOrder.Candidate> candidates = new ArrayList<>();
    int skipped = 0;
    for (Object entry : tags) {
      if (!(entry instanceof String tag)) {
        skipped++;  // no tag: never turned into the text "1.1", "true" or "null"
        continue;
      }
      Optional<String> value = extract(tag);
      if (value.isPresent() && order.accepts(value.get())) {
        candidates.add(new TagOrder.Candidate(tag, value.get()));
      } else {
        skipped++;
      }
    }
    return new Selection(order.choose(candidates).map(TagOrder.Candidate::tag), candidates.size(), skipped);
  }

  /**
   * Whether {@code tag} ranks above {@code other} in this policy's order: the policy would take it
   * over {@code other}, its range aside. Both go through the filter and its extract template first;
   * false when either does not match the filter, when the order cannot read either value (not a
   * version, not a number), or when they rank the same. This is how a write-back tells that the tag
   * in Git (say a hand-written {@code v2.0.0}) is newer than anything the policy allows ({@code
   * ^1.2} chose {@code v1.2.4}), and leaves it rather than downgrading it.
   *
   * <pre>{@code
   * ImagePolicy web = ImagePolicy.builder("apps:web", "registry.example.com/team/web")
   *     .order(TagOrder.semver("^1.2")).build();
   * web.ranksAbove("v2.0.0", "v1.2.4");   // true: v1.2.4 would be a downgrade
   * web.ranksAbove("v1.2.3", "v1.2.4");   // false
   * web.ranksAbove("latest", "v1.2.4");   // false: "latest" is no version, so it cannot rank
   * }</pre>
   *
   * @throws PatternTooSlowException naming this policy when its filter backtracks past its budget
   */
  public boolean ranksAbove(String tag, String other) {
    Objects.requireNonNull(tag, "tag");
    Objects.requireNonNull(other, "other");
    Optional<String> a = extract(tag);
    Optional<String> b = extract(other);
    return a.isPresent() && b.isPresent() && order.ranksAbove(a.get(), b.get());
  }

  private Optional<String> extract(String tag) {
    try {
      return filter.extract(tag);
    } catch (PatternTooSlowException e) {
      throw new PatternTooSlowException(e.pattern(), "policy " + name + ": " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "ImagePolicy[" + name + ": " + image.name() + ", " + order
        + (filter.pattern().isEmpty() ? "" : ", " + filter) + (followDigest ? ", digest" : "")
        + listTimeout.map(t -> ", listing within " + Durations.human(t)).orElse("") + "]";
  }

  /** Builds an {@link ImagePolicy}. */
  public static final class Builder {
    private final String name;
    private final ImageReference image;
    private TagFilter filter = TagFilter.all();
    private TagOrder order;
    private List<String> exclusions = RegistryClient.DEFAULT_EXCLUSIONS;
    private boolean followDigest;
    private Duration listTimeout;
    private String listTimeoutSource = "";

    private Builder(String name, String image) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(image, "image");
      if (name.isBlank() || name.endsWith(":tag") || name.endsWith(":name") || name.endsWith(":digest")) {
        throw new IllegalArgumentException("policy name '" + name + "' is empty or ends with a marker suffix (:tag, :name, :digest)");
      }
      this.name = name;
      ImageReference ref;
      try {
        ref = ImageReference.parse(image);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("policy " + name + ": " + e.getMessage(), e);
      }
      if (ref.tag().isPresent() || ref.digest().isPresent()) {
        throw new IllegalArgumentException("policy " + name + ": image '" + image + "' must name a repository, without tag or digest");
      }
      this.image = ref;
    }

    /** The tag filter (default: every tag, as it is). */
    public Builder filter(TagFilter f) {
      this.filter = Objects.requireNonNull(f, "filter");
      return this;
    }

    /** The order; required. */
    public Builder order(TagOrder o) {
      this.order = Objects.requireNonNull(o, "order");
      return this;
    }

    /**
     * Exclusion patterns, replacing the default (signature tags): RE2 regular expressions (Go's
     * syntax, as Flux's {@code exclusionList}), searched anywhere in a tag.
     *
     * @throws IllegalArgumentException naming the policy and the pattern when one is not RE2 syntax
     */
    public Builder exclusions(List<String> patterns) {
      Objects.requireNonNull(patterns, "patterns");
      try {
        RegistryClient.compile(patterns);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("policy " + name + ": " + e.getMessage(), e);
      }
      this.exclusions = List.copyOf(patterns);
      return this;
    }

    /** Whether to read and write the digest of the chosen tag (default false). */
    public Builder followDigest(boolean on) {
      this.followDigest = on;
      return this;
    }

    /**
     * How long listing the image repository's tags may take, all its pages, retries and the token
     * fetch together (default: the registry client's {@link RegistryClient.Builder#listTimeout}), and
     * reading the chosen tag's digest when the policy follows it. It is taken as given: under a
     * second stays under a second, and zero is refused (a Flux {@code spec.timeout} of {@code 0s} or
     * under a second comes here as one second, raised by {@link FluxPolicies} as Flux raises it).
     *
     * @throws IllegalArgumentException naming the policy when {@code timeout} is not positive or is
     *     longer than 36,500 days
     */
    public Builder listTimeout(Duration timeout) {
      return listTimeout(timeout, "");
    }

    /**
     * As {@link #listTimeout(Duration)}, saying where the timeout comes from ({@code source}, such as
     * {@code "spec.timeout of ImageRepository apps:web (policy file images.yaml, line 7)"}): a
     * listing that takes longer names it.
     *
     * @throws IllegalArgumentException naming the policy when {@code timeout} is not positive or is
     *     longer than 36,500 days
     */
    public Builder listTimeout(Duration timeout, String source) {
      Objects.requireNonNull(source, "source");
      try {
        this.listTimeout = Durations.positive(timeout, "listTimeout");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("policy " + name + (source.isEmpty() ? "" : ", " + source) + ": "
            + e.getMessage(), e);
      }
      this.listTimeoutSource = source;
      return this;
    }

    /** The policy. */
    public ImagePolicy build() {
      return new ImagePolicy(this);
    }
  }
}

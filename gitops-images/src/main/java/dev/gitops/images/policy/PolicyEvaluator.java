package dev.gitops.images.policy;

import dev.gitops.images.registry.RegistryClient;
import dev.gitops.images.registry.RegistryException;
import dev.gitops.images.registry.RegistryTimeoutException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs policies against a registry: lists each image repository once per evaluation (policies
 * sharing an image, exclusions and listing timeout share the listing), selects, and reads digests
 * where a policy follows them (once per evaluation for policies sharing the repository, the timeout
 * and the chosen tag). A policy's {@link ImagePolicy#listTimeout()} bounds both reads: a listing
 * that takes longer fails the policies sharing it, a digest read that takes longer the policies
 * that needed it, each with an error naming where the timeout was set; the other policies and
 * repositories are still read.
 *
 * <pre>{@code
 * PolicyEvaluator.Result r = new PolicyEvaluator(registryClient).evaluate(policies);
 * r.choices().get("apps:web").tag();      // "v1.2.4"
 * r.failures();                           // policy name -> why it chose nothing
 * }</pre>
 */
public final class PolicyEvaluator {

  private static final Logger LOG = LoggerFactory.getLogger(PolicyEvaluator.class);

  /**
   * What an evaluation found: the choice of each policy that made one, and for the others why not
   * (no candidate tag, or the registry could not be read).
   */
  public record Result(Map<String, ImageChoice> choices, Map<String, String> failures) {
    /** A result. */
    public Result {
      choices = Map.copyOf(choices);
      failures = Map.copyOf(failures);
    }
  }

  private final RegistryClient registry;

  /** An evaluator reading from {@code registry}. */
  public PolicyEvaluator(RegistryClient registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** Evaluates every policy; one policy's failure never stops the others. */
  public Result evaluate(List<ImagePolicy> policies) {
    Map<String, RegistryClient.TagList> listings = new HashMap<>();
    Map<String, RegistryException> listingErrors = new HashMap<>();
    Map<String, DigestRead> digests = new HashMap<>();
    Map<String, ImageChoice> choices = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    for (ImagePolicy p : policies) {
      // two ImageRepositories of one image may say different timeouts: each is listed within its own
      String key = p.image().registry() + "/" + p.image().repository() + " " + p.exclusions() + " "
          + p.listTimeout() + " " + p.listTimeoutSource();
      RegistryClient.TagList tags = listings.get(key);
      if (tags == null && !listingErrors.containsKey(key)) {
        try {
          tags = p.listTimeout().isPresent() ? registry.listTags(p.image(), p.exclusions(), p.listTimeout().get())
              : registry.listTags(p.image(), p.exclusions());
          listings.put(key, tags);
        } catch (RegistryTimeoutException e) {
          listingErrors.put(key, namingSource(p, e));
        } catch (RegistryException e) {
          listingErrors.put(key, e);
        } catch (IllegalArgumentException e) {
          // what the registry client refuses up front (an exclusion, an address): this policy's failure only
          listingErrors.put(key, new RegistryException(p.image().registry(), p.image().repository(), -1,
              "registry " + p.image().registry() + ", repository " + p.image().repository() + ": " + e.getMessage(), e));
        }
      }
      if (tags == null) {
        failures.put(p.name(), listingErrors.get(key).getMessage());
        LOG.warn("image policy {}: {}", p.name(), listingErrors.get(key).getMessage());
        continue;
      }
      ImagePolicy.Selection s;
      try {
        s = p.select(tags.tags());
      } catch (PatternTooSlowException e) {
        failures.put(p.name(), e.getMessage());
        LOG.warn("image policy {}: {}", p.name(), e.getMessage());
        continue;
      }
      if (s.tag().isEmpty()) {
        String why = "no tag of " + p.image().name() + " fits " + p.order() + " (" + tags.tags().size() + " tags, "
            + s.skipped() + " skipped, " + tags.excluded() + " excluded)";
        failures.put(p.name(), why);
        LOG.warn("image policy {}: {}", p.name(), why);
        continue;
      }
      Optional<String> digest = Optional.empty();
      if (p.followDigest()) {
        // bounded as the listing is: a registry that lists in time but stalls a manifest fails this policy alone
        String digestKey = p.image().registry() + "/" + p.image().repository() + " " + p.listTimeout() + " "
            + p.listTimeoutSource() + " " + s.tag().get();
        DigestRead read = digests.computeIfAbsent(digestKey, k -> readDigest(p, s.tag().get()));
        if (read.error() != null) {
          failures.put(p.name(), read.error().getMessage());
          LOG.warn("image policy {}: {}", p.name(), read.error().getMessage());
          continue;
        }
        digest = Optional.of(read.digest());
      }
      ImageChoice c;
      try {
        c = new ImageChoice(p.name(), p.image().name(), s.tag().get(), digest, s.candidates(), s.skipped(),
            tags.excluded());
      } catch (IllegalArgumentException e) {
        // the registry client hands on valid tags and digests only; anything else fails this policy alone
        failures.put(p.name(), e.getMessage());
        LOG.warn("image policy {}: {}", p.name(), e.getMessage());
        continue;
      }
      LOG.debug("image policy {} chose {} ({} candidates, {} skipped, {} excluded)", p.name(), c.reference(),
          s.candidates(), s.skipped(), tags.excluded());
      choices.put(p.name(), c);
    }
    return new Result(choices, failures);
  }

  /** A digest read: the digest, or the error it failed with (then the digest is null). */
  private record DigestRead(String digest, RegistryException error) {}

  /** The digest of {@code tag} for {@code p}, within its timeout when it has one, or the error reading it failed with. */
  private DigestRead readDigest(ImagePolicy p, String tag) {
    try {
      return new DigestRead(p.listTimeout().isPresent() ? registry.digest(p.image(), tag, p.listTimeout().get())
          : registry.digest(p.image(), tag), null);
    } catch (RegistryTimeoutException e) {
      return new DigestRead(null, namingSource(p, e));
    } catch (RegistryException e) {
      return new DigestRead(null, e);
    }
  }

  /** {@code e}, saying where {@code p}'s timeout was set: the registry client knows the repository and the timeout only. */
  private static RegistryTimeoutException namingSource(ImagePolicy p, RegistryTimeoutException e) {
    return p.listTimeoutSource().isEmpty() || p.listTimeout().isEmpty() ? e
        : new RegistryTimeoutException(e.registry(), e.repository(), e.timeout(), e.getMessage()
            + "; the timeout is " + p.listTimeoutSource(), e);
  }
}

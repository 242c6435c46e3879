package dev.gitops.images;

import dev.gitops.images.git.EditConflict;
import dev.gitops.images.git.GitWriteBack;
import dev.gitops.images.git.ImageUpdate;
import dev.gitops.images.git.WriteResult;
import dev.gitops.images.policy.ImageChoice;
import dev.gitops.images.policy.ImagePolicy;
import dev.gitops.images.policy.PolicyEvaluator;
import dev.gitops.images.registry.RegistryClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Image update automation in one call: scan the registries, let each policy choose a tag, write
 * the choices into the marked YAML files in Git, commit and push. The ordinary sync then deploys
 * the new images.
 *
 * <pre>{@code
 * try (GitWriteBack git = GitWriteBack.builder("https://git.example.com/ops/cluster.git")
 *          .branch("main").path("apps").author("image-bot", "bot@example.com")
 *          .credentials("x-access-token", System.getenv("GIT_TOKEN")).build();
 *      ImageUpdater updater = ImageUpdater.builder()
 *          .registry(RegistryClient.builder().credentials(RegistryCredentials.dockerConfig(dockerConfig)).build())
 *          .policy(ImagePolicy.builder("apps:web", "registry.example.com/team/web")
 *              .order(TagOrder.semver(">=1.0.0 <2.0.0")).build())
 *          .git(git)
 *          .build()) {
 *   ImageUpdateResult r = updater.run();
 *   r.updates().forEach(u -> log.info(u.describe()));
 *   r.commit();                              // the commit pushed, if any
 * }
 * }</pre>
 *
 * <p>In the YAML, a trailing comment marks the scalar a policy sets (Flux's markers; as in Flux, a
 * comment alone on the line above a list item or a value under its key marks it too):
 *
 * <pre class="language-yaml">{@code
 * image: registry.example.com/team/web:v1.2.3 # {"$imagepolicy": "apps:web"}
 * }</pre>
 *
 * <p>A tag is never downgraded: a marked tag that ranks above its policy's choice (a hand-written
 * newer one) is left as it is and listed in {@link ImageUpdateResult#downgradesRefused()}.
 *
 * <p>An updater remembers what its last completed run saw: a run where neither a remote branch
 * head nor any policy's choice moved since then does nothing more ({@link
 * ImageUpdateResult.Status#UNCHANGED}): no fetch, no file read. A run that throws records nothing,
 * so the next one starts over. Runs are serialised.
 */
public final class ImageUpdater implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ImageUpdater.class);

  private final PolicyEvaluator evaluator;
  private final List<ImagePolicy> policies;
  private final GitWriteBack git;
  private final List<ImageUpdateListener> listeners;
  private volatile boolean closed;
  /** The remote heads and choices of the last completed run; null before the first. */
  private Map<String, String> lastHeads;
  private Map<String, ImageChoice> lastChoices;

  private ImageUpdater(Builder b) {
    this.evaluator = new PolicyEvaluator(Objects.requireNonNull(b.registry, "a registry client is required"));
    this.git = Objects.requireNonNull(b.git, "a GitWriteBack is required");
    if (b.policies.isEmpty()) {
      throw new IllegalArgumentException("at least one image policy is required");
    }
    Map<String, ImagePolicy> byName = new HashMap<>();
    for (ImagePolicy p : b.policies) {
      if (byName.put(p.name(), p) != null) {
        throw new IllegalArgumentException("two image policies are named " + p.name());
      }
    }
    this.policies = List.copyOf(b.policies);
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The policies. */
  public List<ImagePolicy> policies() {
    return policies;
  }

  /**
   * One run: check the repository, its branch and path, evaluate the policies, and unless nothing
   * moved since the last run, write the choices to Git and push. A mistyped URL, branch or path
   * fails before any registry is asked.
   *
   * @throws dev.gitops.images.git.GitWriteException when Git cannot be read or the push is refused
   * @throws dev.gitops.images.git.BranchNotFoundException when the branch is not in the repository
   * @throws dev.gitops.images.git.PathNotFoundException when the path is not in the branch
   * @throws IllegalStateException when this updater was {@linkplain #close() closed}
   */
  public synchronized ImageUpdateResult run() {
    return run(true);
  }

  /**
   * What a run would write, without committing: every marked file is read at the current head
   * (this never answers {@link ImageUpdateResult.Status#UNCHANGED}) and nothing is remembered.
   */
  public synchronized ImageUpdateResult preview() {
    return run(false);
  }

  private ImageUpdateResult run(boolean push) {
    if (closed) {
      throw new IllegalStateException("the image updater is closed: its Git writer is closed with it");
    }
    // Git first: a mistyped URL, branch or path fails in a second, not after a scan of every registry
    // (minutes against one that stalls). Heads unmoved since the last completed run were checked then
    Map<String, String> heads = git.remoteHeads();
    if (!(push && heads.equals(lastHeads))) {
      git.verify();
    }
    PolicyEvaluator.Result evaluated = evaluator.evaluate(policies);
    Map<String, ImageChoice> choices = evaluated.choices();
    if (push && heads.equals(lastHeads) && sameChoices(choices, lastChoices)) {
      LOG.debug("images: nothing moved (heads {}, {} choices)", heads, choices.size());
      return finish(new ImageUpdateResult(ImageUpdateResult.Status.UNCHANGED, choices, evaluated.failures(), heads,
          Optional.empty()));
    }
    WriteResult w = push ? git.write(choices, policies) : git.preview(choices, policies);
    ImageUpdateResult.Status status = !push ? ImageUpdateResult.Status.PREVIEW
        : w.pushed() ? ImageUpdateResult.Status.PUSHED : ImageUpdateResult.Status.UP_TO_DATE;
    if (push) {
      Map<String, String> after = new HashMap<>(heads);
      w.commit().ifPresent(c -> after.put("refs/heads/" + git.pushBranch(), c));
      lastHeads = Map.copyOf(after);
      lastChoices = choices;
    }
    for (ImageUpdate u : w.updates()) {
      if (w.commit().isPresent()) {
        LOG.info("image {} {} -> {}{} in {} ({}) by commit {}", u.image(), orDash(u.oldTag()), orDash(u.newTag()),
            u.newDigest() == null ? "" : " (digest " + orDash(u.oldDigest()) + " -> " + u.newDigest() + ")",
            u.file() + ":" + u.line(), u.policy(), w.commit().get());
        String commit = w.commit().get();
        notify(l -> l.onUpdate(u, commit));
      }
    }
    for (EditConflict c : w.conflicts()) {
      notify(l -> l.onConflict(c));
    }
    ImageUpdateResult result = new ImageUpdateResult(status, choices, evaluated.failures(), heads, Optional.of(w));
    result.unmarkedPolicies().forEach(p -> LOG.warn("images: no marker under {} names image policy {}; it set nothing",
        git, p));
    w.problems().forEach(p -> LOG.warn("images: {}", p));
    w.downgradesRefused().forEach(d -> LOG.warn("images: {}", d.describe()));
    return finish(result);
  }

  private static String orDash(String s) {
    return s == null ? "-" : s;
  }

  private ImageUpdateResult finish(ImageUpdateResult r) {
    notify(l -> l.onRun(r));
    return r;
  }

  private void notify(Consumer<ImageUpdateListener> call) {
    for (ImageUpdateListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        // a listener must not break the run that already pushed; its failure is logged
        LOG.warn("image update listener {} failed: {}", l, e.toString());
      }
    }
  }

  private static boolean sameChoices(Map<String, ImageChoice> now, Map<String, ImageChoice> before) {
    if (before == null || !now.keySet().equals(before.keySet())) {
      return false;
    }
    return now.entrySet().stream().allMatch(e -> e.getValue().sameAs(before.get(e.getKey())));
  }

  /** Closes the Git writer; a later {@link #run()} or {@link #preview()} throws, and a loop around it stops. */
  @Override
  public void close() {
    closed = true;
    git.close();
  }

  /**
   * Whether {@link #close()} was called.
   *
   * <pre>{@code
   * if (!updater.isClosed()) {
   *   updater.run();
   * }
   * }</pre>
   */
  public boolean isClosed() {
    return closed;
  }

  /** Builds an {@link ImageUpdater}. */
  public static final class Builder {
    private RegistryClient registry;
    private final List<ImagePolicy> policies = new ArrayList<>();
    private GitWriteBack git;
    private final List<ImageUpdateListener> listeners = new ArrayList<>();

    private Builder() {}

    /** The registry client (required). */
    public Builder registry(RegistryClient client) {
      this.registry = Objects.requireNonNull(client, "registry");
      return this;
    }

    /** Adds a policy. */
    public Builder policy(ImagePolicy policy) {
      policies.add(Objects.requireNonNull(policy, "policy"));
      return this;
    }

    /** Adds policies. */
    public Builder policies(List<ImagePolicy> all) {
      all.forEach(this::policy);
      return this;
    }

    /** Where the choices are written (required); the updater closes it. */
    public Builder git(GitWriteBack writer) {
      this.git = Objects.requireNonNull(writer, "git");
      return this;
    }

    /** Adds a listener. */
    public Builder listener(ImageUpdateListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The updater. When it cannot be built, the {@link GitWriteBack} given to it is closed (so a
     * temporary clone it made does not stay behind).
     *
     * @throws IllegalArgumentException when a part is missing or two policies share a name
     */
    public ImageUpdater build() {
      try {
        return new ImageUpdater(this);
      } catch (RuntimeException e) {
        if (git != null) {
          git.close();
        }
        throw e;
      }
    }
  }
}

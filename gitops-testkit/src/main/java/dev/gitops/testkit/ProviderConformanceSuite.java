package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Provider} contract as JUnit 5 tests. Extend it, supply a fresh provider and a few
 * sample resources, and every test runs against your provider:
 *
 * <pre>{@code
 * import dev.gitops.examples.KeyValueStore;
 *
 * class KeyValueProviderConformanceTest extends ProviderConformanceSuite<KeyValueProvider> {
 *   protected KeyValueProvider newProvider() { return new KeyValueProvider(new KeyValueStore()); }
 *
 *   protected List<Resource> sampleResources() {
 *     return List.of(Resource.of(ResourceKey.of("kv", "entry", "a"), size(1)));
 *   }
 *
 *   protected Optional<Resource> modify(Resource r) {          // optional: enables update tests
 *     return Optional.of(r.withDocument(size(2)));
 *   }
 *
 *   static JsonNode size(int n) { return Documents.object(Map.of("size", IntNode.valueOf(n))); }
 * }
 * }</pre>
 *
 * <p>({@code KeyValueProvider} is the example of {@link Provider}'s javadoc, over the examples'
 * {@code KeyValueStore}; {@code examples/.../KeyValueProviderConformanceTest} runs this suite on
 * the whole example.)
 *
 * <p>What is checked: observe of a never-created key is ABSENT; observe answers every key asked
 * for; creating an absent object reports CREATED and deleting a present one DELETED; create is
 * idempotent; observe after apply returns what was applied (by default every field
 * applied is observed with the same value after {@link Provider#normalize}; override {@link
 * #assertObservedMatches} for exact round trips or looser systems); update and replace converge;
 * a field removed from the target disappears live (an update writes the whole target, it does
 * not lay it over the live object); delete removes and deleting a missing object succeeds;
 * {@code applyAll} reports every key, of a batch of creates, updates and deletes alike; concurrent
 * applies to different keys all land; the version token changes when the object changes, after a
 * replace, and after a delete and a create again with another document; {@link
 * Provider#versions} answers only present keys, each with the token and mark observe gives it
 * now; UNKNOWN is reported rather than guessed; failures name the key; {@link Provider#normalize}
 * keeps the order of fields and is idempotent, and {@link Provider#health} answers. For a provider
 * that {@linkplain Provider#marksObjects() marks its objects}: each object it creates carries the
 * calling owner's mark, observe reads it, {@link Provider#listMarked} lists every one for that
 * owner and none for another, and {@link Provider#unmark} removes only the given owner's mark and
 * leaves the object. Tests whose hook a provider cannot support ({@link #modify}, {@link
 * #makeUnobservable}, {@link #invalidChange}), or whose optional capability it
 * lacks (marks, {@code versions}, {@code unmark}), are skipped by an assumption, not passed.
 *
 * <p>Changes are built directly (see {@link #createOf}, {@link #updateOf}, {@link #deleteOf}):
 * the suite tests the provider contract, not the merge engine. Each test gets a new provider from
 * {@link #newProvider()}; it must start from an empty live system.
 *
 * <p>A planning provider (one with a {@link Provider#planner() planner}, such as Terraform)
 * applies only changes it planned itself, so the tests that apply hand-built changes are skipped
 * for it ({@link #appliesHandBuiltChanges()}), and the planning contract runs instead: its
 * planned changes name it and hide every sensitive value; applying them in one {@code applyAll}
 * succeeds, moves its state token and leaves nothing to plan; what it created is observed
 * PRESENT; and (where {@link #moveStateBehindItsBack} can simulate it) a plan whose state moved
 * is refused.
 *
 * @param <P> the provider type, so hooks can use its test controls
 */
public abstract class ProviderConformanceSuite<P extends Provider> {

  /** An owner other than {@link #context()}'s, for the rules on marks. */
  private static final String OTHER_OWNER = "conformance-other-owner";

  private P provider;

  /** A fresh provider over an empty live system; called before each test. */
  protected abstract P newProvider() throws Exception;

  /**
   * Resources of the provider (at least one, distinct keys, all naming {@link Provider#id()}),
   * ideally covering the shapes it supports.
   */
  protected abstract List<Resource> sampleResources();

  /** An updated version of {@code resource} (same key, another document), or empty if none. */
  protected Optional<Resource> modify(Resource resource) {
    return Optional.empty();
  }

  /**
   * A version of {@code resource} with at least one field of its document removed (same key), or
   * empty when the provider's documents have no field that can go. The default is {@link
   * #modify}, which often drops fields. When no sample loses one, the test that a removed field
   * disappears live adds a field of its own ({@code conformanceExtraField}) to a sample whose
   * document is an object, and checks that an update to the sample removes it; it is skipped when
   * the provider refuses or drops that field.
   */
  protected Optional<Resource> withFieldRemoved(Resource resource) {
    return modify(resource);
  }

  /**
   * Makes the existing object at {@code key} impossible to observe (a permission error, a file
   * where a directory should be). Returns false when the provider cannot simulate that, which
   * skips the test.
   */
  protected boolean makeUnobservable(P provider, ResourceKey key) throws Exception {
    return false;
  }

  /** A change the provider must refuse (a bad path, an invalid field), or empty if none. */
  protected Optional<Change> invalidChange(P provider) {
    return Optional.empty();
  }

  /**
   * Whether the provider applies changes it did not plan (built by hand, as most tests here do).
   * The default: every provider but a planning one.
   */
  protected boolean appliesHandBuiltChanges() {
    return provider.planner().isEmpty();
  }

  /** For a planning provider: the desired resources it plans from (default: {@link #sampleResources()}). */
  protected List<Resource> plannedDesired() {
    return sampleResources();
  }

  /**
   * For a planning provider: changes its state behind its back after it planned (another user
   * applied). Returns false when that cannot be simulated, which skips the test.
   */
  protected boolean moveStateBehindItsBack(P provider) throws Exception {
    return false;
  }

  /**
   * How long {@link Provider#listMarked} may take to show a write (an object created, deleted or
   * unmarked): zero (the default) for a provider whose listing reads the live system, longer for
   * one that lists from a cache a watch keeps (Kubernetes' informers). The rules on marks ask again
   * until the listing shows the write or this much time passed.
   */
  protected Duration listingLag() {
    return Duration.ZERO;
  }

  /** The call context of every call; override for longer deadlines. */
  protected CallContext context() {
    return CallContext.of("conformance-owner", "main@sha1:" + "0".repeat(40), Duration.ofSeconds(60));
  }

  /**
   * Asserts that what was observed after applying {@code applied} matches it. The default: after
   * {@link Provider#normalize}, every field of {@code applied} is in {@code observed} with an equal
   * value (objects compared field by field, everything else by value), so live-only fields such as
   * server defaults are allowed. Override for an exact comparison.
   */
  protected void assertObservedMatches(ResourceKey key, JsonNode applied, JsonNode observed) {
    JsonNode want = provider.normalize(key, applied);
    JsonNode got = provider.normalize(key, observed);
    List<String> problems = new ArrayList<>();
    contains("", want, got, problems);
    assertThat(problems).as("%s: observed %s after applying %s", key, got, want).isEmpty();
  }

  /** The provider of the running test. */
  protected final P provider() {
    return provider;
  }

  /** Creates the provider of the test. */
  @BeforeEach
  protected final void createProvider() throws Exception {
    provider = newProvider();
  }

  // ---------------------------------------------------------------- change builders

  /** A CREATE of {@code r}: desired and target are its document. */
  public static Change createOf(Resource r) {
    return change(r, Action.CREATE, null);
  }

  /** An UPDATE to {@code r}'s document from {@code live}. */
  public static Change updateOf(Resource r, JsonNode live) {
    return change(r, Action.UPDATE, live);
  }

  /** A REPLACE by {@code r}'s document of {@code live}. */
  public static Change replaceOf(Resource r, JsonNode live) {
    return change(r, Action.REPLACE, live);
  }

  /** A DELETE of {@code lastApplied}'s key. */
  public static Change deleteOf(Resource lastApplied, JsonNode live) {
    return Change.delete(lastApplied, live, "conformance: delete");
  }

  private static Change change(Resource r, Action action, JsonNode live) {
    return Change.builder(r.key(), action).desired(r).live(live).target(r.document())
        .reason("conformance: " + action.name().toLowerCase(java.util.Locale.ROOT)).build();
  }

  // ---------------------------------------------------------------- helpers

  private List<Resource> samples() {
    List<Resource> s = sampleResources();
    assertThat(s).as("sampleResources()").isNotEmpty();
    return s;
  }

  private List<ResourceKey> keys(List<Resource> rs) {
    return rs.stream().map(Resource::key).toList();
  }

  private Observation observeOne(ResourceKey key) {
    Map<ResourceKey, Observation> m = provider.observe(List.of(key), context());
    assertThat(m).as("observe(%s)", key).containsOnlyKeys(key);
    return m.get(key);
  }

  private void applyOk(Change c) {
    Outcome o = provider.apply(c, context());
    assertThat(o.isOk()).as("%s %s: %s", c.action(), c.key(), o).isTrue();
  }

  /** Creates {@code rs} in one {@code applyAll} (one run for a provider that batches), each OK. */
  private void createAll(List<Resource> rs) {
    List<Change> creates = rs.stream().map(ProviderConformanceSuite::createOf).toList();
    Map<ResourceKey, Outcome> out = provider.applyAll(creates, context());
    for (Change c : creates) {
      Outcome o = out == null ? null : out.get(c.key());
      assertThat(o != null && o.isOk()).as("CREATE %s in applyAll: %s", c.key(), o).isTrue();
    }
  }

  private JsonNode observePresent(ResourceKey key) {
    Observation obs = observeOne(key);
    assertThat(obs.status()).as("observe %s: %s", key, obs.reason()).isEqualTo(Observation.Status.PRESENT);
    return obs.live();
  }

  private List<Resource[]> modifications() {
    List<Resource[]> out = new ArrayList<>();
    for (Resource r : samples()) {
      modify(r).ifPresent(m -> {
        assertThat(m.key()).as("modify() must keep the key").isEqualTo(r.key());
        out.add(new Resource[] {r, m});
      });
    }
    assumeFalse(out.isEmpty(), "modify() gives no updated resources");
    return out;
  }

  /**
   * {@code listMarked(owner)}, asked again every 20 ms within {@link #listingLag()} until {@code
   * settled} holds for it (the last answer either way; null as it came).
   */
  private Collection<ResourceKey> listed(String owner, java.util.function.Predicate<Collection<ResourceKey>> settled) {
    long end = System.nanoTime() + listingLag().toNanos();
    Collection<ResourceKey> listed = provider.listMarked(owner, context());
    while (listed != null && !settled.test(listed) && System.nanoTime() - end < 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      listed = provider.listMarked(owner, context());
    }
    return listed;
  }

  /** The pairs {@link #modifications()} gives, or none (no assumption). */
  private List<Resource[]> modificationsOrNone() {
    List<Resource[]> out = new ArrayList<>();
    for (Resource r : samples()) {
      modify(r).ifPresent(m -> out.add(new Resource[] {r, m}));
    }
    return out;
  }

  private static void contains(String path, JsonNode want, JsonNode got, List<String> problems) {
    if (want.isObject() && got != null && got.isObject()) {
      for (Map.Entry<String, JsonNode> e : want.properties()) {
        JsonNode g = got.get(e.getKey());
        String p = path + "/" + e.getKey();
        if (g == null) {
          problems.add(p + " missing");
        } else {
          contains(p, e.getValue(), g, problems);
        }
      }
    } else if (!Documents.equal(want, got)) {
      problems.add((path.isEmpty() ? "/" : path) + ": want " + want + ", got " + got);
    }
  }

  private void handBuilt() {
    assumeTrue(appliesHandBuiltChanges(), "a planning provider applies only the changes it planned");
  }

  private ProviderPlanner planning() {
    Optional<ProviderPlanner> p = provider.planner();
    assumeTrue(p.isPresent(), "not a planning provider");
    return p.get();
  }

  private static List<Change> toApply(List<Change> planned) {
    return planned.stream().filter(c -> c.action() != Action.NOOP && c.action() != Action.SKIP).toList();
  }

  // ---------------------------------------------------------------- the contract

  /** Contract: Sample keys name this provider. */
  @Test
  public void sampleKeysNameThisProvider() {
    assertThat(keys(samples())).allSatisfy(k -> assertThat(k.provider()).isEqualTo(provider.id()))
        .doesNotHaveDuplicates();
  }

  /** Contract: Observe of a never created key is absent. */
  @Test
  public void observeOfANeverCreatedKeyIsAbsent() {
    for (ResourceKey k : keys(samples())) {
      Observation obs = observeOne(k);
      assertThat(obs.status()).as("observe %s before any apply: %s", k, obs.reason())
          .isEqualTo(Observation.Status.ABSENT);
    }
  }

  /** Contract: Observe answers every key asked for. */
  @Test
  public void observeAnswersEveryKeyAskedFor() {
    List<Resource> rs = samples();
    boolean created = appliesHandBuiltChanges();
    if (created) {
      applyOk(createOf(rs.get(0)));
    }
    List<ResourceKey> asked = keys(rs);
    Map<ResourceKey, Observation> m = provider.observe(asked, context());
    assertThat(m.keySet()).containsExactlyInAnyOrderElementsOf(asked);
    if (created) {
      assertThat(m.get(asked.get(0)).isPresent()).isTrue();
    }
    m.forEach((k, o) -> assertThat(o.key()).isEqualTo(k));
  }

  /** Contract: Observe after create returns what was applied. */
  @Test
  public void observeAfterCreateReturnsWhatWasApplied() {
    handBuilt();
    for (Resource r : samples()) {
      Outcome o = provider.apply(createOf(r), context());
      assertThat(o.isOk()).as("create %s: %s", r.key(), o).isTrue();
      assertThat(o.kind()).as("the outcome of creating the absent %s", r.key()).isEqualTo(Outcome.Kind.CREATED);
      JsonNode live = observePresent(r.key());
      assertThat(Documents.isFrozen(provider.normalize(r.key(), live))).as("normalize returns frozen").isTrue();
      assertObservedMatches(r.key(), r.document(), live);
    }
  }

  /** Contract: Create is idempotent. */
  @Test
  public void createIsIdempotent() {
    handBuilt();
    for (Resource r : samples()) {
      applyOk(createOf(r));
      Outcome again = provider.apply(createOf(r), context());
      assertThat(again.isOk()).as("second create of %s: %s", r.key(), again).isTrue();
      assertObservedMatches(r.key(), r.document(), observePresent(r.key()));
    }
  }

  /** Contract: Update converges. */
  @Test
  public void updateConverges() {
    handBuilt();
    for (Resource[] pair : modifications()) {
      applyOk(createOf(pair[0]));
      JsonNode live = observePresent(pair[0].key());
      applyOk(updateOf(pair[1], live));
      assertObservedMatches(pair[1].key(), pair[1].document(), observePresent(pair[1].key()));
      applyOk(updateOf(pair[1], observePresent(pair[1].key())));
      assertObservedMatches(pair[1].key(), pair[1].document(), observePresent(pair[1].key()));
    }
  }

  /** Contract: Replace converges. */
  @Test
  public void replaceConverges() {
    handBuilt();
    for (Resource[] pair : modifications()) {
      applyOk(createOf(pair[0]));
      applyOk(replaceOf(pair[1], observePresent(pair[0].key())));
      assertObservedMatches(pair[1].key(), pair[1].document(), observePresent(pair[1].key()));
    }
  }

  /**
   * Contract: A field removed from the target disappears live. A provider that lays the target
   * over the live object keeps it, and the engine would otherwise record the update as applied
   * and call the object in sync forever.
   */
  @Test
  public void aFieldRemovedFromTheTargetDisappearsLive() {
    handBuilt();
    int checked = 0;
    for (Resource r : samples()) {
      Optional<Resource> less = withFieldRemoved(r);
      if (less.isEmpty()) {
        continue;
      }
      assertThat(less.get().key()).as("withFieldRemoved() must keep the key").isEqualTo(r.key());
      List<List<String>> removed = new ArrayList<>();
      removedFields(new ArrayList<>(), provider.normalize(r.key(), r.document()),
          provider.normalize(r.key(), less.get().document()), removed);
      if (removed.isEmpty()) {
        continue;
      }
      checked++;
      applyOk(createOf(r));
      applyOk(updateOf(less.get(), observePresent(r.key())));
      JsonNode live = provider.normalize(r.key(), observePresent(r.key()));
      for (List<String> path : removed) {
        assertThat(at(live, path)).as("%s: field /%s was removed from the target but is still live in %s", r.key(),
            String.join("/", path), live).isNull();
      }
    }
    if (checked == 0) {
      checked = aFieldOfItsOwnRemoved();
    }
    assumeTrue(checked > 0, "withFieldRemoved() removes no field of any sample, and the provider keeps no field "
        + "'" + EXTRA_FIELD + "' added to one");
  }

  /** The field {@link #aFieldRemovedFromTheTargetDisappearsLive} adds to a sample when no hook removes one. */
  private static final String EXTRA_FIELD = "conformanceExtraField";

  /**
   * Where no sample loses a field through {@link #withFieldRemoved}: creates the first sample whose
   * document is an object with one field more ({@value #EXTRA_FIELD}), and, if the provider keeps
   * that field live, updates it to the sample as it is, which must remove it. Returns 1 when it
   * checked, 0 when the provider refused or dropped the extra field (a schema of its own).
   */
  private int aFieldOfItsOwnRemoved() {
    for (Resource r : samples()) {
      if (!r.document().isObject() || r.document().has(EXTRA_FIELD)) {
        continue;
      }
      Map<String, JsonNode> fields = new java.util.LinkedHashMap<>();
      r.document().properties().forEach(f -> fields.put(f.getKey(), f.getValue()));
      fields.put(EXTRA_FIELD, Documents.nodes().textNode("added by the conformance suite"));
      Resource more = r.withDocument(Documents.object(fields));
      if (!provider.apply(createOf(more), context()).isOk()) {
        provider.apply(deleteOf(more, null), context());
        return 0;
      }
      Observation created = observeOne(r.key());
      if (!created.isPresent() || !provider.normalize(r.key(), created.live()).has(EXTRA_FIELD)) {
        provider.apply(deleteOf(more, created.live()), context());
        return 0;
      }
      applyOk(updateOf(r, created.live()));
      JsonNode live = provider.normalize(r.key(), observePresent(r.key()));
      assertThat(live.get(EXTRA_FIELD)).as("%s: field /%s was removed from the target but is still live in %s",
          r.key(), EXTRA_FIELD, live).isNull();
      return 1;
    }
    return 0;
  }

  /** Object fields of {@code full} (at any depth, not inside arrays) that {@code less} does not have. */
  private static void removedFields(List<String> at, JsonNode full, JsonNode less, List<List<String>> out) {
    if (full == null || !full.isObject() || less == null || !less.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : full.properties()) {
      List<String> path = new ArrayList<>(at);
      path.add(e.getKey());
      JsonNode kept = less.get(e.getKey());
      if (kept == null) {
        out.add(path);
      } else {
        removedFields(path, e.getValue(), kept, out);
      }
    }
  }

  private static JsonNode at(JsonNode doc, List<String> path) {
    JsonNode n = doc;
    for (String field : path) {
      n = n != null && n.isObject() ? n.get(field) : null;
    }
    return n;
  }

  /** Contract: Version token changes when the object changes. */
  @Test
  public void versionTokenChangesWhenTheObjectChanges() {
    handBuilt();
    for (Resource[] pair : modifications()) {
      applyOk(createOf(pair[0]));
      Observation before = observeOne(pair[0].key());
      assumeFalse(before.version().isEmpty(), "the provider has no version tokens");
      assertThat(observeOne(pair[0].key()).version()).as("token of an unchanged object").isEqualTo(before.version());
      applyOk(updateOf(pair[1], before.live()));
      assertThat(observeOne(pair[1].key()).version()).as("token after update of %s", pair[1].key())
          .isNotEqualTo(before.version());
    }
  }

  /**
   * Contract: The version token tells documents apart across a delete and a replace: an object
   * deleted and created again with another document has another token (a token counted per object
   * from 1 again would give it the deleted one's, and the engine would take the new object for the
   * one it verified in sync before), and so has an object after a replace.
   */
  @Test
  public void versionTokenIsNewAfterAReplaceAndAfterADeleteAndCreateAgain() {
    handBuilt();
    for (Resource[] pair : modifications().subList(0, 1)) {  // one object tells: applies may be slow
      applyOk(createOf(pair[0]));
      Observation first = observeOne(pair[0].key());
      assumeFalse(first.version().isEmpty(), "the provider has no version tokens");
      applyOk(deleteOf(pair[0], first.live()));
      applyOk(createOf(pair[1]));
      Observation again = observeOne(pair[1].key());
      assertThat(again.version())
          .as("version token of %s deleted and created again with another document (the deleted one's: %s)",
              pair[1].key(), first.version())
          .isNotEqualTo(first.version());
      applyOk(replaceOf(pair[0], again.live()));
      assertThat(observeOne(pair[0].key()).version()).as("version token of %s after a replace (the token before it: %s)",
          pair[0].key(), again.version()).isNotEqualTo(again.version());
    }
  }

  /**
   * Contract: {@link Provider#versions} answers a present key only with the token {@link
   * Provider#observe} gives it now (and its mark), and leaves out absent keys. Skipped for a
   * provider that answers no key (the default: every key is observed in full). A token kept from
   * before a write would let the engine skip reading an object that changed.
   */
  @Test
  public void versionsAnswerWhatObserveWouldNow() {
    handBuilt();
    List<Resource> rs = samples();
    List<ResourceKey> ks = keys(rs);
    assertThat(provider.versions(ks, context())).as("versions(...) of keys never created: they are absent")
        .isEmpty();
    createAll(rs);
    Map<ResourceKey, dev.gitops.api.LiveVersion> answered = provider.versions(ks, context());
    assumeFalse(answered.isEmpty(), "versions(...) answers no key: the provider reads no tokens without documents");
    assertVersionsAsObserved(answered, "after create");
    for (Resource[] pair : modificationsOrNone()) {
      applyOk(updateOf(pair[1], observePresent(pair[1].key())));
    }
    assertVersionsAsObserved(provider.versions(ks, context()), "after update");
    ResourceKey gone = rs.get(0).key();
    applyOk(deleteOf(rs.get(0), observePresent(gone)));
    assertThat(provider.versions(ks, context())).as("versions(...) after %s was deleted", gone)
        .doesNotContainKey(gone);
  }

  private void assertVersionsAsObserved(Map<ResourceKey, dev.gitops.api.LiveVersion> answered, String when) {
    Map<ResourceKey, Observation> seen = provider.observe(List.copyOf(answered.keySet()), context());
    answered.forEach((k, v) -> {
      assertThat(v).as("versions(...) %s: the answer for %s", when, k).isNotNull();
      assertThat(v.key()).as("versions(...) %s: the answer for %s names its own key", when, k).isEqualTo(k);
      Observation o = seen.get(k);
      assertThat(o.isPresent()).as("versions(...) %s answered %s, which observe finds %s", when, k, o.status())
          .isTrue();
      assertThat(v.version()).as("versions(...) %s: the token of %s is the one observe gives now (a stale token?)",
          when, k).isEqualTo(o.version());
      assertThat(v.mark()).as("versions(...) %s: the mark of %s is the one observe reads", when, k)
          .isEqualTo(o.mark());
    });
  }

  /**
   * Contract: A provider that {@linkplain Provider#marksObjects() marks its objects} marks each it
   * creates with the calling owner and the object's key, observe reads that mark back, and {@link
   * Provider#listMarked} lists every one of them for that owner, only keys of this provider, none
   * for another owner, and no longer a deleted one. An object missing from the listing is an orphan
   * the engine never finds (nor a rebuilt store).
   */
  @Test
  public void markedObjectsAreReadBackAndListedForTheirOwnerOnly() {
    handBuilt();
    assumeTrue(provider.marksObjects(), "the provider marks no objects");
    List<Resource> rs = samples();
    String owner = context().owner();
    createAll(rs);
    for (Resource r : rs) {
      Observation o = observeOne(r.key());
      assertThat(o.mark()).as("the mark observe reads on %s, created by owner '%s'", r.key(), owner).isNotNull();
      assertThat(o.mark().isOwnedBy(owner, r.key())).as("the mark on %s names owner '%s' and the key: %s", r.key(),
          owner, o.mark()).isTrue();
    }
    Collection<ResourceKey> listed = listed(owner, l -> l.containsAll(keys(rs)));
    assertThat(listed).as("listMarked('%s') after creating %s", owner, keys(rs)).isNotNull()
        .containsAll(keys(rs)).doesNotContainNull()
        .allSatisfy(k -> assertThat(k.provider()).as("listMarked lists keys of provider '%s' only", provider.id())
            .isEqualTo(provider.id()));
    assertThat(provider.listMarked(OTHER_OWNER, context())).as("listMarked('%s') of another owner", OTHER_OWNER)
        .doesNotContainAnyElementsOf(keys(rs));
    Resource gone = rs.get(0);
    applyOk(deleteOf(gone, observePresent(gone.key())));
    assertThat(listed(owner, l -> !l.contains(gone.key()))).as("listMarked('%s') after %s was deleted", owner,
        gone.key())
        .doesNotContain(gone.key());
  }

  /**
   * Contract: {@link Provider#unmark} removes the given owner's mark only, and leaves the object as
   * it is: unmarking for another owner leaves the creator's mark (and its listing); unmarking for the
   * creator leaves the document, and the object is then no longer that owner's; it is idempotent,
   * and succeeds for an object that is not there. Skipped for a provider that marks no objects, or whose
   * {@code unmark} refuses ({@link UnsupportedOperationException}, the default).
   */
  @Test
  public void unmarkRemovesOnlyThatOwnersMarkAndKeepsTheObject() {
    handBuilt();
    assumeTrue(provider.marksObjects(), "the provider marks no objects");
    Resource r = samples().get(0);
    ResourceKey k = r.key();
    String owner = context().owner();
    try {
      provider.unmark(k, owner, context());  // an object that is not there: nothing to do
    } catch (UnsupportedOperationException e) {
      assumeTrue(false, "the provider cannot remove its marks: " + e.getMessage());
    }
    applyOk(createOf(r));
    provider.unmark(k, OTHER_OWNER, context());
    Observation kept = observeOne(k);
    assertThat(kept.mark() != null && kept.mark().isOwnedBy(owner, k))
        .as("unmark(%s, '%s') removed the mark of owner '%s': %s", k, OTHER_OWNER, owner, kept.mark()).isTrue();
    assertThat(listed(owner, l -> l.contains(k))).as("listMarked('%s') after unmark(%s, '%s')", owner, k,
        OTHER_OWNER).contains(k);

    provider.unmark(k, owner, context());
    Observation after = observeOne(k);
    assertThat(after.status()).as("%s after unmark(%s, '%s'): the object stays", k, k, owner)
        .isEqualTo(Observation.Status.PRESENT);
    JsonNode was = provider.normalize(k, kept.live());
    JsonNode is = provider.normalize(k, after.live());
    assertThat(Documents.equal(was, is)).as("%s after unmark(%s, '%s'): the document stays %s, not %s", k, k, owner,
        was, is).isTrue();
    assertThat(after.mark() == null || !after.mark().isOwnedBy(owner, k))
        .as("the mark on %s after unmark(%s, '%s'): %s", k, k, owner, after.mark()).isTrue();
    assertThat(listed(owner, l -> !l.contains(k))).as("listMarked('%s') after unmark(%s, '%s')", owner, k, owner)
        .doesNotContain(k);

    provider.unmark(k, owner, context());  // idempotent
    assertThat(observeOne(k).status()).as("%s after unmark(%s, '%s') twice", k, k, owner)
        .isEqualTo(Observation.Status.PRESENT);
  }

  /**
   * Contract: {@link Provider#normalize} of an observed document is frozen, keeps the order of the
   * fields it keeps (the engine compares lists and renders fields in that order), and is idempotent;
   * {@link Provider#health} answers for every applied object (a health, never null or an exception).
   */
  @Test
  public void normalizeKeepsOrderAndIsIdempotentAndHealthAnswers() {
    handBuilt();
    List<Resource> rs = samples();
    createAll(rs);
    Map<ResourceKey, Observation> seen = provider.observe(keys(rs), context());
    for (Resource r : rs) {
      Observation o = seen.get(r.key());
      assertThat(o).as("observe %s", r.key()).isNotNull();
      assertThat(o.status()).as("observe %s: %s", r.key(), o.reason()).isEqualTo(Observation.Status.PRESENT);
      JsonNode once = provider.normalize(r.key(), o.live());
      assertThat(once).as("normalize(%s, ...)", r.key()).isNotNull();
      assertThat(Documents.isFrozen(once)).as("normalize(%s, ...) returns a frozen document", r.key()).isTrue();
      List<String> reordered = new ArrayList<>();
      sameOrder("", o.live(), once, reordered);
      assertThat(reordered).as("normalize(%s, ...) reordered fields of %s into %s", r.key(), o.live(), once)
          .isEmpty();
      assertThat(Documents.equal(provider.normalize(r.key(), once), once))
          .as("normalize(%s, ...) is idempotent: once %s, twice %s", r.key(), once, provider.normalize(r.key(), once))
          .isTrue();
      assertThat(provider.health(r.key(), o)).as("health(%s, ...) of the applied object", r.key()).isNotNull();
    }
  }

  /** Objects of {@code normalized} whose fields do not come in the order {@code raw} has them. */
  private static void sameOrder(String path, JsonNode raw, JsonNode normalized, List<String> out) {
    if (raw == null || normalized == null) {
      return;
    }
    if (raw.isObject() && normalized.isObject()) {
      List<String> rawOrder = new ArrayList<>();
      raw.fieldNames().forEachRemaining(rawOrder::add);
      List<String> kept = new ArrayList<>();
      normalized.fieldNames().forEachRemaining(n -> {
        if (rawOrder.contains(n)) {
          kept.add(n);
        }
      });
      List<String> expected = rawOrder.stream().filter(kept::contains).toList();
      if (!kept.equals(expected)) {
        out.add((path.isEmpty() ? "/" : path) + ": " + expected + " became " + kept);
      }
      for (String n : kept) {
        sameOrder(path + "/" + n, raw.get(n), normalized.get(n), out);
      }
    } else if (raw.isArray() && normalized.isArray() && raw.size() == normalized.size()) {
      for (int i = 0; i < raw.size(); i++) {
        sameOrder(path + "/" + i, raw.get(i), normalized.get(i), out);
      }
    }
  }

  /**
   * Contract: a provider that {@linkplain Provider#prefersBatches() prefers batches} takes at least
   * one change per {@code applyAll} ({@link Provider#batchLimit()} of 1 or more), and a batch of a
   * create, an update and a delete of different keys reports each key once, each applied.
   */
  @Test
  public void aBatchOfMixedChangesReportsEachKeyAndLands() {
    handBuilt();
    if (provider.prefersBatches()) {
      assertThat(provider.batchLimit()).as("batchLimit() of a provider that prefers batches").isPositive();
    }
    List<Resource[]> pairs = modificationsOrNone();
    List<Resource> rs = samples();
    assumeTrue(rs.size() >= 3 && !pairs.isEmpty(), "a mixed batch needs three samples and modify()");
    Resource toCreate = rs.get(0);
    Resource[] toUpdate = null;
    for (Resource[] p : pairs) {
      if (!p[0].key().equals(toCreate.key())) {
        toUpdate = p;
        break;
      }
    }
    assumeTrue(toUpdate != null, "modify() gives an update of a second sample");
    Resource toDelete = null;
    for (Resource r : rs) {
      if (!r.key().equals(toCreate.key()) && !r.key().equals(toUpdate[0].key())) {
        toDelete = r;
        break;
      }
    }
    applyOk(createOf(toUpdate[0]));
    applyOk(createOf(toDelete));
    List<Change> batch = List.of(createOf(toCreate), updateOf(toUpdate[1], observePresent(toUpdate[0].key())),
        deleteOf(toDelete, observePresent(toDelete.key())));
    Map<ResourceKey, Outcome> out = provider.applyAll(batch, context());
    assertThat(out).as("applyAll of a create, an update and a delete").isNotNull();
    assertThat(out.keySet()).as("the keys applyAll reports").containsExactlyInAnyOrder(toCreate.key(),
        toUpdate[1].key(), toDelete.key());
    out.forEach((k, o) -> assertThat(o.isOk()).as("%s in a mixed batch: %s", k, o).isTrue());
    assertObservedMatches(toCreate.key(), toCreate.document(), observePresent(toCreate.key()));
    assertObservedMatches(toUpdate[1].key(), toUpdate[1].document(), observePresent(toUpdate[1].key()));
    assertThat(observeOne(toDelete.key()).status()).as("%s deleted in a mixed batch", toDelete.key())
        .isEqualTo(Observation.Status.ABSENT);
  }

  /** Contract: Delete removes the object and is idempotent. */
  @Test
  public void deleteRemovesTheObjectAndIsIdempotent() {
    handBuilt();
    for (Resource r : samples()) {
      applyOk(createOf(r));
      Outcome d = provider.apply(deleteOf(r, observePresent(r.key())), context());
      assertThat(d.isOk()).as("delete %s: %s", r.key(), d).isTrue();
      assertThat(d.kind()).as("the outcome of deleting the present %s", r.key()).isEqualTo(Outcome.Kind.DELETED);
      assertThat(observeOne(r.key()).status()).as("after delete of %s", r.key()).isEqualTo(Observation.Status.ABSENT);
      Outcome again = provider.apply(deleteOf(r, null), context());
      assertThat(again.isOk()).as("second delete of %s: %s", r.key(), again).isTrue();
    }
  }

  /** Contract: Delete of a missing resource succeeds. */
  @Test
  public void deleteOfAMissingResourceSucceeds() {
    handBuilt();
    for (Resource r : samples()) {
      Outcome d = provider.apply(deleteOf(r, null), context());
      assertThat(d.isOk()).as("delete of never-created %s: %s", r.key(), d).isTrue();
    }
  }

  /** Contract: Unknown is reported rather than guessed. */
  @Test
  public void unknownIsReportedRatherThanGuessed() throws Exception {
    handBuilt();
    Resource r = samples().get(0);
    applyOk(createOf(r));
    assumeTrue(makeUnobservable(provider, r.key()), "the provider cannot simulate an unobservable object");
    Observation obs = observeOne(r.key());
    assertThat(obs.status()).as("observe of an unobservable %s", r.key()).isEqualTo(Observation.Status.UNKNOWN);
    assertThat(obs.reason()).as("an UNKNOWN observation says why").isNotBlank();
  }

  /** Contract: Errors carry the key. */
  @Test
  public void errorsCarryTheKey() {
    handBuilt();
    Optional<Change> bad = invalidChange(provider);
    assumeTrue(bad.isPresent(), "the suite has no invalid change for this provider");
    Change c = bad.get();
    Outcome o;
    try {
      o = provider.apply(c, context());
    } catch (ProviderException e) {
      assertThat(e.key()).as("the exception's key").isEqualTo(c.key());
      return;
    }
    assertThat(o.isOk()).as("applying an invalid change: %s", o).isFalse();
    boolean named = o.message().contains(c.key().toString()) || o.message().contains(c.key().name())
        || (o.cause() instanceof ProviderException pe && c.key().equals(pe.key()));
    assertThat(named).as("the failure names %s: %s", c.key(), o.message()).isTrue();
  }

  /** Contract: Apply all reports every key. */
  @Test
  public void applyAllReportsEveryKey() {
    handBuilt();
    List<Resource> rs = samples();
    List<Change> creates = rs.stream().map(ProviderConformanceSuite::createOf).toList();
    Map<ResourceKey, Outcome> out = provider.applyAll(creates, context());
    assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(keys(rs));
    out.forEach((k, o) -> assertThat(o.isOk()).as("%s: %s", k, o).isTrue());
    List<Change> deletes = rs.stream().map(r -> deleteOf(r, null)).toList();
    Map<ResourceKey, Outcome> gone = provider.applyAll(deletes, context());
    assertThat(gone.keySet()).containsExactlyInAnyOrderElementsOf(keys(rs));
    gone.forEach((k, o) -> assertThat(o.isOk()).as("%s: %s", k, o).isTrue());
    provider.observe(keys(rs), context()).values()
        .forEach(obs -> assertThat(obs.isAbsent()).as("%s after delete", obs.key()).isTrue());
  }

  /**
   * Planning contract: its planned changes name it, no key twice, and every value under a change's
   * sensitive mask is hidden in its live, desired and target documents and field entries.
   */
  @Test
  public void plannedChangesNameThisProviderAndHideSensitiveValues() {
    List<Change> planned = planning().plan(plannedDesired(), context());
    assertThat(planned).extracting(c -> c.key().provider()).allMatch(provider.id()::equals);
    assertThat(planned).extracting(Change::key).doesNotHaveDuplicates();
    for (Change c : planned) {
      for (dev.gitops.api.FieldPath s : c.sensitive()) {
        for (JsonNode doc : java.util.Arrays.asList(c.live(), c.desired(), c.target())) {
          JsonNode v = at(doc, s);
          assertThat(v == null || v.isNull() || REDACTED.equals(v.asText()))
              .as("%s: the value at sensitive %s is hidden, not %s", c.key(), s, v).isTrue();
        }
      }
      c.fields().stream().filter(dev.gitops.api.FieldChange::sensitive).forEach(f -> assertThat(
          (f.before() == null || REDACTED.equals(f.before().asText())) && (f.after() == null
              || !f.after().isTextual() || f.after().asText().startsWith("(")))
          .as("%s: field entry %s is hidden", c.key(), f.path()).isTrue());
    }
  }

  /**
   * Planning contract: applying the planned changes in one call succeeds for every key, moves the
   * state token, and leaves nothing to plan; what was created is observed PRESENT.
   */
  @Test
  public void applyingThePlannedChangesConvergesAndMovesTheStateToken() {
    ProviderPlanner planner = planning();
    String before = planner.stateToken(context());
    List<Change> changes = toApply(planner.plan(plannedDesired(), context()));
    assumeFalse(changes.isEmpty(), "the planner planned no change for plannedDesired()");
    Map<ResourceKey, Outcome> out = provider.applyAll(changes, context());
    assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(changes.stream().map(Change::key).toList());
    out.forEach((k, o) -> assertThat(o.isOk()).as("%s: %s", k, o).isTrue());
    assertThat(planner.stateToken(context())).as("state token after applying").isNotEqualTo(before);
    assertThat(toApply(planner.plan(plannedDesired(), context()))).as("planned again after applying").isEmpty();
    List<ResourceKey> created = changes.stream().filter(c -> c.action() == Action.CREATE).map(Change::key).toList();
    provider.observe(created, context()).forEach((k, o) -> assertThat(o.isPresent()).as("%s after create: %s", k,
        o.reason()).isTrue());
  }

  /** Planning contract: a plan whose state moved since it was made is refused, naming why. */
  @Test
  public void aPlanWhoseStateMovedIsNotApplied() throws Exception {
    ProviderPlanner planner = planning();
    List<Change> changes = toApply(planner.plan(plannedDesired(), context()));
    assumeFalse(changes.isEmpty(), "the planner planned no change for plannedDesired()");
    assumeTrue(moveStateBehindItsBack(provider), "the provider cannot simulate a state moved behind its back");
    Map<ResourceKey, Outcome> out = provider.applyAll(changes, context());
    out.forEach((k, o) -> {
      assertThat(o.isOk()).as("%s applied from a stale plan: %s", k, o).isFalse();
      assertThat(o.message()).as("%s: the refusal says why", k).isNotBlank();
    });
  }

  private static final String REDACTED = dev.gitops.core.redact.Redactor.MARKER;

  private static JsonNode at(JsonNode doc, dev.gitops.api.FieldPath path) {
    JsonNode n = doc;
    for (dev.gitops.api.FieldPath.Segment s : path.segments()) {
      if (n == null) {
        return null;
      }
      if (s instanceof dev.gitops.api.FieldPath.Field f) {
        n = n.get(f.name());
      } else if (s instanceof dev.gitops.api.FieldPath.Index i) {
        n = n.get(i.index());
      } else {
        return null;
      }
    }
    return n;
  }

  /** Contract: Concurrent applies to different keys all land. */
  @Test
  public void concurrentAppliesToDifferentKeysAllLand() throws Exception {
    handBuilt();
    List<Resource> rs = samples();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(4, rs.size()));
    try {
      List<Future<Outcome>> fs = new ArrayList<>();
      for (Resource r : rs) {
        fs.add(pool.submit(() -> provider.apply(createOf(r), context())));
      }
      for (int i = 0; i < rs.size(); i++) {
        Outcome o = fs.get(i).get(60, TimeUnit.SECONDS);
        assertThat(o.isOk()).as("%s: %s", rs.get(i).key(), o).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    for (Resource r : rs) {
      assertObservedMatches(r.key(), r.document(), observePresent(r.key()));
    }
  }
}

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
 * not lay it over the live object);
 * delete removes and deleting a missing object succeeds; {@code applyAll} reports every key;
 * concurrent applies to different keys all land; the version token changes when the object
 * changes; UNKNOWN is reported rather than guessed; failures name the key. Tests whose hook a
 * provider cannot support ({@link #modify}, {@link #withFieldRemoved}, {@link #makeUnobservable},
 * {@link #invalidChange})
 * are skipped by an assumption, not passed.
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
   * #modify}, which often drops fields; the test that a removed field disappears live is skipped
   * when no sample loses one.
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
    assumeTrue(checked > 0, "withFieldRemoved() removes no field of any sample");
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

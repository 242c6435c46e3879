package dev.gitops.core.redact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Health;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Redaction hides values and changes nothing else: every component of a plan, a result and an
 * event survives it. Instances are built by reflection over the record components, so a component
 * added later is covered without editing this test (or fails it until it gets a sample value).
 */
class RedactionKeepsEverythingTest {

  static final String SECRET = "hunter2-keeps-everything";
  static final ResourceKey K1 = ResourceKey.of("m", "thing", "", "a");
  static final ResourceKey K2 = ResourceKey.of("m", "thing", "", "b");
  static final ResourceKey K3 = ResourceKey.of("m", "thing", "", "c");

  static final Resource DESIRED = Resource.of(K1, RedactorTest.j("{'password':'" + SECRET + "','user':'app'}"));
  static final Change SENSITIVE = Change.builder(K1, Action.CREATE).desired(DESIRED).target(DESIRED.document())
      .reason("not live").sensitive(Set.of(FieldPath.of("password"))).build();

  /** A non-empty sample per component type, by the type's generic name. */
  static Object sample(RecordComponent rc) {
    String type = rc.getGenericType().getTypeName().replace("dev.gitops.api.", "").replace("java.util.", "")
        .replace("java.lang.", "").replace("java.time.", "");
    return switch (type) {
      case "String" -> "sample-" + rc.getName();
      case "int" -> 3;
      case "boolean" -> true;
      case "Duration" -> Duration.ofSeconds(7);
      case "ResourceKey" -> K2;
      case "Change" -> SENSITIVE;
      case "List<Change>" -> List.of(SENSITIVE);
      case "Outcome" -> Outcome.configured();
      case "Health" -> Health.degraded("sample");
      case "RuntimeException" -> new IllegalStateException("sample");
      case "List<FieldPath>" -> List.of(FieldPath.of("spec", "replicas"));
      case "Plan" -> build(Plan.class);
      case "SyncResult" -> build(SyncResult.class);
      case "SyncResult$Status" -> SyncResult.Status.FAILED;
      case "SortedMap<ResourceKey, SortedSet<ResourceKey>>" -> new TreeMap<>(Map.of(K2, new TreeSet<>(Set.of(K1))));
      case "SortedMap<String, String>" -> new TreeMap<>(Map.of(rc.getName() + "-k", rc.getName() + "-v"));
      case "SortedMap<ResourceKey, String>" -> new TreeMap<>(Map.of(K1, "fingerprint"));
      case "SortedMap<String, Integer>" -> new TreeMap<>(Map.of("m", 4));
      case "SortedMap<ResourceKey, Outcome>" -> new TreeMap<>(Map.of(K1, Outcome.created()));
      case "SortedSet<ResourceKey>" -> new TreeSet<>(Set.of(K3));
      default -> fail("no sample value for " + rc.getDeclaringRecord().getSimpleName() + "." + rc.getName() + " of type "
          + type + ": add one here so that redaction is checked to keep it");
    };
  }

  static <T> T build(Class<T> record) {
    RecordComponent[] rcs = record.getRecordComponents();
    Object[] args = new Object[rcs.length];
    Class<?>[] types = new Class<?>[rcs.length];
    for (int i = 0; i < rcs.length; i++) {
      args[i] = sample(rcs[i]);
      types[i] = rcs[i].getType();
    }
    try {
      Constructor<T> canonical = record.getDeclaredConstructor(types);
      return canonical.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot build a " + record.getSimpleName(), e);
    }
  }

  /**
   * Every component of {@code after} equals {@code before}'s, except changes, which keep their key,
   * action, mask and reason but hide the secret; plans and results inside are compared the same way.
   */
  static void assertKept(String where, Object before, Object after) {
    if (before instanceof Change b) {
      Change a = (Change) after;
      assertThat(List.of(a.key(), a.action(), a.sensitive(), a.reason(), a.flags(), a.unknown())).as(where)
          .isEqualTo(List.of(b.key(), b.action(), b.sensitive(), b.reason(), b.flags(), b.unknown()));
      assertThat(ShownText.of(a)).as(where + " hides the secret").doesNotContain(SECRET);
      return;
    }
    if (before instanceof List<?> b && !b.isEmpty() && b.get(0) instanceof Change) {
      List<?> a = (List<?>) after;
      assertThat(a).as(where).hasSameSizeAs(b);
      for (int i = 0; i < b.size(); i++) {
        assertKept(where + "[" + i + "]", b.get(i), a.get(i));
      }
      return;
    }
    if (before instanceof Record r && (r instanceof Plan || r instanceof SyncResult || r instanceof SyncEvent)) {
      assertThat(after).as(where).isInstanceOf(r.getClass());
      for (RecordComponent rc : r.getClass().getRecordComponents()) {
        Object b = get(rc, before);
        assertThat(b).as(where + "." + rc.getName() + " sample is not empty")
            .satisfiesAnyOf(x -> assertThat(x).isNotInstanceOf(Collection.class).isNotInstanceOf(Map.class),
                x -> assertThat(x instanceof Collection<?> c ? c.size() : ((Map<?, ?>) x).size()).isPositive());
        assertKept(where + "." + rc.getName(), b, get(rc, after));
      }
      return;
    }
    assertThat(after).as(where).isEqualTo(before);
  }

  static Object get(RecordComponent rc, Object o) {
    try {
      return rc.getAccessor().invoke(o);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(rc.getName(), e);
    }
  }

  static List<Redactor> redactors() {
    return List.of(Redactor.marking(), Redactor.hashing("k".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void redactingAPlanKeepsEveryComponent() {
    Plan plan = build(Plan.class);
    for (Redactor redactor : redactors()) {
      Plan shown = redactor.redact(plan);
      assertThat(shown).as("the plan holds a secret, so it is rebuilt").isNotSameAs(plan);
      assertKept("plan", plan, shown);
    }
  }

  @Test
  void redactingAResultKeepsEveryComponent() {
    SyncResult result = build(SyncResult.class);
    for (Redactor redactor : redactors()) {
      assertKept("result", result, redactor.redact(result));
    }
  }

  @Test
  void redactingAnyEventKeepsEveryComponent() {
    Class<?>[] kinds = SyncEvent.class.getPermittedSubclasses();
    assertThat(kinds).isNotEmpty();
    for (Class<?> kind : kinds) {
      SyncEvent event = (SyncEvent) build(kind.asSubclass(Record.class));
      for (Redactor redactor : redactors()) {
        assertKept(kind.getSimpleName(), event, redactor.redact(event));
      }
    }
  }
}

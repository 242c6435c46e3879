package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Cancellation;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldPath;
import dev.gitops.api.KeySelector;
import dev.gitops.api.ManagementPolicy;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Origin;
import dev.gitops.api.Outcome;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.StoredResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public constructor and method of gitops-api's value types, exceptions and SPI records
 * refuses a null argument at once, naming the parameter, unless its javadoc says what null means
 * there (the parameters listed in {@link #NULLABLE}).
 */
class ApiNullArgumentsTest {

  static final ResourceKey KEY = ResourceKey.of("m", "thing", "", "a");
  static final JsonNode DOC = ReconcilerTest.json("{'v':1}");
  static final Resource RESOURCE = Resource.of(KEY, DOC);
  static final Plan PLAN = new Plan("id", "r1", List.of(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
      new TreeMap<>(), new TreeSet<>());

  /** Sample arguments for the API's parameter types. */
  static NullArguments tester() {
    return new NullArguments()
        .sample(String.class, () -> "x").sample(Object.class, () -> "x")
        .sample(ResourceKey.class, () -> KEY).sample(JsonNode.class, () -> DOC).sample(Resource.class, () -> RESOURCE)
        .sample(State.class, () -> State.of("r1", List.of())).sample(List.class, List::of)
        .sample(Collection.class, List::of).sample(Iterable.class, List::of).sample(Set.class, Set::of)
        .sample(Map.class, Map::of).sample(SortedMap.class, TreeMap::new).sample(SortedSet.class, TreeSet::new)
        .sample(Optional.class, Optional::empty).sample(Duration.class, () -> Duration.ofSeconds(1))
        .sample(Instant.class, Instant::now).sample(Path.class, () -> Path.of("x"))
        .sample(Throwable.class, () -> new RuntimeException("x")).sample(Observation.class, () -> Observation.absent(KEY))
        .sample(Outcome.class, Outcome::created).sample(FieldPath.class, FieldPath::root)
        .sample(MergeRules.class, MergeRules::defaults).sample(Cancellation.class, Cancellation::new)
        .sample(CallContext.class, () -> CallContext.of("o", "r1", Duration.ofMinutes(1)))
        .sample(ManagementPolicy.class, () -> ManagementPolicy.ALL).sample(Origin.class, () -> Origin.of("f", 1, "r1"))
        .sample(OwnerMark.class, () -> new OwnerMark("o", KEY)).sample(Plan.class, () -> PLAN)
        .sample(Change.class, () -> Change.create(RESOURCE, "x")).sample(PathPattern.class, () -> PathPattern.of("/a"))
        .sample(KeySelector.class, () -> KeySelector.of("m", "thing", "", "a"))
        .sample(StoredResource.InSync.class, () -> new StoredResource.InSync("d", "r", "v"))
        .sample(Supplier.class, () -> () -> DOC);
  }

  /** Instances whose instance methods are checked too. */
  static final Map<Class<?>, Object> INSTANCES = Map.ofEntries(
      Map.entry(ResourceKey.class, KEY), Map.entry(Resource.class, RESOURCE), Map.entry(FieldPath.class, FieldPath.root()),
      Map.entry(MergeRules.class, MergeRules.defaults()), Map.entry(Observation.class, Observation.present(KEY, DOC, "1")),
      Map.entry(Change.class, Change.create(RESOURCE, "x")), Map.entry(State.class, State.of("r1", List.of(RESOURCE))),
      Map.entry(ManagementPolicy.class, ManagementPolicy.ALL), Map.entry(Outcome.class, Outcome.created()),
      Map.entry(Plan.class, PLAN), Map.entry(SyncResult.class, new SyncResult("r1", PLAN, SyncResult.Status.SUCCEEDED,
          new TreeMap<>(), Duration.ZERO, "h")));

  /** What each parameter that takes null means there: said in its javadoc. */
  static final Map<Class<?>, Set<String>> NULLABLE = Map.ofEntries(
      // the live document is null when the object is absent or was not observed
      Map.entry(Change.class, Set.of("<init>#1", "<init>#3", "<init>#4", "<init>#5", "<init>#6", "update#1",
          "replace#1", "delete#1", "skip#1", "noop#1")),
      // no mark read, no last-applied record kept on the object
      Map.entry(Observation.class, Set.of("<init>#4", "<init>#6", "present#3", "withLastApplied#0")),
      Map.entry(dev.gitops.api.LiveVersion.class, Set.of("<init>#2", "of#2")),
      Map.entry(StoredResource.class, Set.of("<init>#3")),
      // a field added has no value before, a field removed none after
      Map.entry(dev.gitops.api.FieldChange.class, Set.of("<init>#1", "<init>#2")),
      // a failure without a cause
      Map.entry(Outcome.class, Set.of("<init>#2", "permanentFailure#1", "transientFailure#1")),
      // a key of null selects every key
      Map.entry(MergeRules.class, Set.of("isIgnored#0", "isSensitive#0", "hasIgnoresFor#0", "hasSensitiveFor#0")),
      // an operation without a source path (all but move and copy)
      Map.entry(dev.gitops.api.PatchOp.class, Set.of("<init>#3")),
      Map.entry(dev.gitops.api.DecodeException.class, Set.of("<init>#0")),
      // no document: freeze and mutableCopy give JSON null, digest and canonical JSON are JSON null's,
      // null equals only null, and null counts as frozen; it nests no level (depth 0, not too deep)
      Map.entry(Documents.class, Set.of("freeze#0", "isFrozen#0", "mutableCopy#0", "equal#0", "equal#1", "digest#0",
          "canonicalJson#0", "depth#0", "tooDeep#0")));

  @Test
  void everyPublicCallOfTheApiRefusesANullArgumentNamingIt() throws IOException {
    NullArguments tester = tester();
    List<String> wrong = new ArrayList<>();
    for (Class<?> type : apiTypes()) {
      // an exception's message and cause, and the key of one that is not about one key, may be null
      Set<Class<?>> nullableTypes = Throwable.class.isAssignableFrom(type)
          ? Set.of(String.class, Throwable.class, ResourceKey.class) : Set.of();
      wrong.addAll(tester.check(type, INSTANCES.get(type), NULLABLE.getOrDefault(type, Set.of()), nullableTypes));
    }

    assertThat(wrong).isEmpty();
  }

  @Test
  void documentsHelpersRefuseANullArgumentAtOnceNamingTheParameter() {
    assertThat(apiTypesUnchecked()).as("Documents is checked with the rest of the API").contains(Documents.class);
    assertThatThrownBy(() -> Documents.object((Map<String, JsonNode>) null)).isInstanceOf(NullPointerException.class)
        .hasMessage("fields");
    assertThatThrownBy(() -> Documents.array((List<JsonNode>) null)).hasMessage("elements");
    assertThatThrownBy(() -> Documents.object(null, new JsonNode[0], 0)).hasMessage("names");
    assertThatThrownBy(() -> Documents.array(null, 0)).hasMessage("elements");
    assertThatThrownBy(() -> Documents.fieldName(null, 0)).isInstanceOf(NullPointerException.class).hasMessage("object");
    assertThatThrownBy(() -> Documents.fieldValue(null, 0)).hasMessage("object");
    assertThatThrownBy(() -> Documents.fieldIndex(DOC, null, 0)).hasMessage("name");
    assertThatThrownBy(() -> Documents.sameFieldNames(DOC, null)).hasMessage("b");
    assertThatThrownBy(() -> Documents.withFieldValues(DOC, null, new JsonNode[0], 0)).hasMessage("positions");
    assertThat(Documents.freeze(null)).as("null is JSON null, as its javadoc says").isEqualTo(Documents.nodes().nullNode());
  }

  private static List<Class<?>> apiTypesUnchecked() {
    try {
      return apiTypes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void theTesterItselfSeesACallThatTakesNullAndOneThatFailsDeepInside() {
    List<String> wrong = tester().check(Documents.class, null, Set.of());

    assertThat(wrong).anySatisfy(w -> assertThat(w).startsWith("Documents.freeze(JsonNode) with null #0: accepted"));
  }

  /** The public classes of gitops-api's packages (interfaces are SPIs the engine calls, not users). */
  static List<Class<?>> apiTypes() throws IOException {
    List<Class<?>> out = new ArrayList<>();
    Path where = Path.of(ResourceKey.class.getProtectionDomain().getCodeSource().getLocation().getPath());
    // the api's classes: a directory within the reactor, its jar from a repository
    try (java.nio.file.FileSystem jar = Files.isDirectory(where) ? null : java.nio.file.FileSystems.newFileSystem(where)) {
      Path root = jar == null ? where : jar.getPath("/");
      for (String pkg : List.of("dev/gitops/api", "dev/gitops/api/spi")) {
        listInto(out, root.resolve(pkg), pkg);
      }
    }
    assertThat(out).as("API types found").hasSizeGreaterThan(30);
    return out;
  }

  private static void listInto(List<Class<?>> out, Path dir, String pkg) throws IOException {
    {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : files.sorted().toList()) {
          String f = p.getFileName().toString();
          if (!f.endsWith(".class") || f.contains("$") || f.equals("package-info.class")) {
            continue;
          }
          try {
            Class<?> c = Class.forName(pkg.replace('/', '.') + "." + f.substring(0, f.length() - ".class".length()));
            if (java.lang.reflect.Modifier.isPublic(c.getModifiers()) && !c.isInterface()) {
              out.add(c);
            }
          } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }
  }
}

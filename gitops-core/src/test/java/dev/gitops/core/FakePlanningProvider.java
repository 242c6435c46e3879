package dev.gitops.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.FieldChange;
import dev.gitops.api.FieldPath;
import dev.gitops.api.MergeRules;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.PatchOp;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.ProviderPlanner;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A planning provider for core tests, a miniature Terraform. Its desired resources are
 * configuration files ({@code fake:file:config:<name>}) whose documents declare objects and
 * outputs: {@code {"objects": {"web": {"size": 1}}, "outputs": {"url": "web.id"}}}. It plans the
 * objects against its own state (CREATE, UPDATE, DELETE, NOOP, keyed {@code fake:obj::<name>}),
 * gives every object an {@code id} only when applied (unknown in the plan of a create), and
 * outputs ({@code fake:output::<name>}) whose value is another object's attribute ("web.id"). An
 * attribute whose name starts with {@code secret} is sensitive; the fake hands its plain value to
 * the engine (in live, target, fields and patch) so that the engine's masking is what is tested.
 */
final class FakePlanningProvider implements Provider {

  static final String ID = "fake";

  /** The state: objects by name (attributes, with "id"), and output values by name. */
  final Map<String, JsonNode> objects = new TreeMap<>();
  final Map<String, JsonNode> outputs = new TreeMap<>();
  /** Per output, the "obj.attr" it was last planned from. */
  final Map<String, String> outputSources = new TreeMap<>();
  long serial;
  int nextId = 100;
  /** Every applyAll call, with the keys it got. */
  final List<List<ResourceKey>> calls = new CopyOnWriteArrayList<>();
  /** Every change it was handed. */
  final List<Change> received = new CopyOnWriteArrayList<>();
  /** Keys in the order they were applied across providers (shared with other test providers). */
  List<String> order = new CopyOnWriteArrayList<>();
  /** When set, plan throws it. */
  volatile RuntimeException planFailure;
  /** When set, every planned change is held back (as if the provider's own plan were incomplete). */
  volatile String holdBack;
  volatile Consumer<CallContext> beforePlan = c -> { };
  /** Its merge rules (sensitive paths the engine must apply to what it plans). */
  volatile MergeRules rules = MergeRules.defaults();

  static ResourceKey config(String name) {
    return ResourceKey.of(ID, "file", "config", name);
  }

  static ResourceKey obj(String name) {
    return ResourceKey.of(ID, "obj", "", name);
  }

  static ResourceKey output(String name) {
    return ResourceKey.of(ID, "output", "", name);
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public boolean prefersBatches() {
    return true;
  }

  @Override
  public synchronized Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    for (ResourceKey k : keys) {
      JsonNode v = k.type().equals("obj") ? objects.get(k.name())
          : k.type().equals("output") && outputs.containsKey(k.name()) ? valueDoc(outputs.get(k.name())) : null;
      out.put(k, v == null ? Observation.absent(k) : Observation.present(k, v, "serial-" + serial));
    }
    return out;
  }

  @Override
  public MergeRules mergeRules() {
    return rules;
  }

  @Override
  public Optional<ProviderPlanner> planner() {
    return Optional.of(new ProviderPlanner() {
      @Override
      public List<Change> plan(List<Resource> desired, CallContext ctx) {
        beforePlan.accept(ctx);
        RuntimeException failure = planFailure;
        if (failure != null) {
          throw failure;
        }
        return FakePlanningProvider.this.plan(desired);
      }

      @Override
      public String stateToken(CallContext ctx) {
        synchronized (FakePlanningProvider.this) {
          return "lineage-1/" + serial;
        }
      }

      @Override
      public boolean manages(ResourceKey key) {
        return key.type().equals("obj");
      }
    });
  }

  private synchronized List<Change> plan(List<Resource> desired) {
    Map<String, JsonNode> wanted = new TreeMap<>();
    Map<String, String> wantedOutputs = new TreeMap<>();
    for (Resource r : desired) {
      fields(r.document().path("objects")).forEach(wanted::put);
      fields(r.document().path("outputs")).forEach((k, v) -> wantedOutputs.put(k, v.asText()));
    }
    outputSources.clear();
    outputSources.putAll(wantedOutputs);
    List<Change> out = new ArrayList<>();
    Set<String> created = new TreeSet<>();
    Set<String> names = new TreeSet<>(wanted.keySet());
    names.addAll(objects.keySet());
    for (String name : names) {
      JsonNode want = wanted.get(name);
      JsonNode have = objects.get(name);
      if (want == null) {
        out.add(change(obj(name), Action.DELETE, have, null, Set.of(), "not in the configuration"));
      } else if (have == null) {
        created.add(name);
        out.add(change(obj(name), Action.CREATE, null, want, Set.of(FieldPath.of("id")), "not in the state"));
      } else {
        JsonNode target = withId(want, have.get("id"));
        out.add(change(obj(name), Documents.equal(target, have) ? Action.NOOP : Action.UPDATE, have, target, Set.of(),
            "attributes differ"));
      }
    }
    Set<String> outNames = new TreeSet<>(wantedOutputs.keySet());
    outNames.addAll(outputs.keySet());
    for (String name : outNames) {
      String from = wantedOutputs.get(name);
      JsonNode before = outputs.containsKey(name) ? valueDoc(outputs.get(name)) : null;
      if (from == null) {
        out.add(change(output(name), Action.FORGET, before, null, Set.of(), "output removed"));
        continue;
      }
      String[] ref = from.split("\\.", 2);
      boolean unknown = created.contains(ref[0]);
      JsonNode value = unknown ? null : wanted.containsKey(ref[0]) ? attribute(ref[0], ref[1], wanted) : null;
      JsonNode after = value == null ? Documents.emptyObject() : valueDoc(value);
      Action a = before == null ? Action.CREATE : unknown || !Documents.equal(before, after) ? Action.UPDATE : Action.NOOP;
      out.add(change(output(name), a, before, after, unknown ? Set.of(FieldPath.of("value")) : Set.of(), "output"));
    }
    if (holdBack != null) {
      List<Change> held = new ArrayList<>();
      for (Change c : out) {
        held.add(c.withAction(Action.SKIP, "would " + c.action() + "; held back: " + holdBack)
            .withFlag(Change.Flag.HELD_BACK));
      }
      return held;
    }
    return out;
  }

  private JsonNode attribute(String obj, String attr, Map<String, JsonNode> wanted) {
    JsonNode have = objects.get(obj);
    JsonNode v = attr.equals("id") && have != null ? have.get("id") : wanted.get(obj).get(attr);
    return v;
  }

  private static Map<String, JsonNode> fields(JsonNode n) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), e.getValue());
    }
    return out;
  }

  private static JsonNode withId(JsonNode doc, JsonNode id) {
    Map<String, JsonNode> m = fields(doc);
    if (id != null) {
      m.put("id", id);
    }
    return Documents.object(m);
  }

  static JsonNode valueDoc(JsonNode value) {
    return Documents.object(Map.of("value", value));
  }

  /** A change with the sensitive mask, field entries and patch of a diff of the two documents. */
  private static Change change(ResourceKey key, Action action, JsonNode before, JsonNode after, Set<FieldPath> unknown,
      String reason) {
    Set<FieldPath> sensitive = new TreeSet<>();
    List<FieldChange> fields = new ArrayList<>();
    List<PatchOp> patch = new ArrayList<>();
    Set<String> names = new TreeSet<>();
    if (before != null) {
      before.fieldNames().forEachRemaining(names::add);
    }
    if (after != null) {
      after.fieldNames().forEachRemaining(names::add);
    }
    for (String n : names) {
      if (n.startsWith("secret")) {
        sensitive.add(FieldPath.of(n));
      }
      JsonNode b = before == null ? null : before.get(n);
      JsonNode a = after == null ? null : after.get(n);
      if (!Documents.equal(b, a) && !(a == null && after != null && unknown.contains(FieldPath.of(n)))) {
        fields.add(new FieldChange(FieldPath.of(n), b, a, false));
        patch.add(a == null ? PatchOp.remove("/" + n) : b == null ? PatchOp.add("/" + n, a) : PatchOp.replace("/" + n, a));
      }
    }
    return Change.builder(key, action).live(before).desiredDocument(after).target(after).patch(patch).fields(fields)
        .reason(reason).sensitive(sensitive).unknown(unknown).build();
  }

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    return applyAll(List.of(change), ctx).get(change.key());
  }

  @Override
  public synchronized Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    calls.add(changes.stream().map(Change::key).toList());
    received.addAll(changes);
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    // objects first, then outputs (their values come from the objects)
    for (Change c : changes) {
      if (!c.key().type().equals("obj")) {
        continue;
      }
      order.add(c.key().toString());
      String name = c.key().name();
      switch (c.action()) {
        case DELETE -> {
          objects.remove(name);
          out.put(c.key(), Outcome.deleted());
        }
        case CREATE, UPDATE -> {
          JsonNode id = objects.containsKey(name) ? objects.get(name).get("id")
              : Documents.nodes().numberNode(nextId++);
          JsonNode now = withId(c.target(), id);
          objects.put(name, now);
          out.put(c.key(), (c.action() == Action.CREATE ? Outcome.created() : Outcome.configured())
              .withOutputs(Map.of("id", id)));
        }
        default -> out.put(c.key(), Outcome.unchanged());
      }
    }
    for (Change c : changes) {
      if (c.key().type().equals("obj")) {
        continue;
      }
      order.add(c.key().toString());
      String name = c.key().name();
      if (c.action() == Action.FORGET) {
        outputs.remove(name);
        out.put(c.key(), Outcome.unchanged());
        continue;
      }
      // The output names "obj.attr": its value is the attribute as applied.
      String[] from = outputSources.get(name).split("\\.", 2);
      JsonNode value = objects.get(from[0]).get(from[1]);
      outputs.put(name, value);
      out.put(c.key(), Outcome.configured().withOutputs(Map.of("value", value)));
    }
    serial++;
    return out;
  }
}

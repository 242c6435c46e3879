package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.FieldPath;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Provider;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * REPLACE end to end: planned when the provider says a changed field cannot change in place,
 * handed to the provider as one change (old object as live, new one as target), which it carries
 * out delete first, then create; dependents wait for the whole replacement.
 */
class ReplaceTest {

  private static final ResourceKey DISK = ResourceKey.of("v", "disk", "data");
  private static final ResourceKey APP = ResourceKey.of("v", "app", "web");

  /** Disks cannot be resized in place; a replace deletes the old disk, then creates the new one. */
  private static final class VolumeProvider implements Provider {
    final Map<ResourceKey, JsonNode> live = new ConcurrentHashMap<>();
    final Map<ResourceKey, Integer> generation = new ConcurrentHashMap<>();
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    final List<Change> received = Collections.synchronizedList(new ArrayList<>());

    @Override
    public String id() {
      return "v";
    }

    @Override
    public boolean requiresReplace(ResourceKey key, FieldPath path) {
      return key.type().equals("disk") && path.equals(FieldPath.of("size"));
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      keys.forEach(k -> out.put(k, live.containsKey(k)
          ? Observation.present(k, live.get(k), Integer.toString(generation.get(k))) : Observation.absent(k)));
      return out;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      received.add(change);
      ResourceKey k = change.key();
      switch (change.action()) {
        case REPLACE -> {
          live.remove(k);
          log.add("delete " + k.name());
          write(k, change.target());
          log.add("create " + k.name());
          return Outcome.configured();
        }
        case CREATE, UPDATE -> {
          write(k, change.target());
          log.add(change.action().name().toLowerCase(java.util.Locale.ROOT) + " " + k.name());
          return change.action() == Action.CREATE ? Outcome.created() : Outcome.configured();
        }
        case DELETE -> {
          live.remove(k);
          log.add("delete " + k.name());
          return Outcome.deleted();
        }
        default -> {
          return Outcome.unchanged();
        }
      }
    }

    private void write(ResourceKey k, JsonNode doc) {
      live.put(k, doc);
      generation.merge(k, 1, Integer::sum);
    }
  }

  private static State state(String revision, int size, String image) {
    return State.of(revision, List.of(Resource.of(DISK, ReconcilerTest.json("{'size':" + size + "}")),
        Resource.builder(APP).document(ReconcilerTest.json("{'image':'" + image + "'}")).dependsOn(DISK).build()));
  }

  @Test
  void aReplaceDeletesBeforeItCreatesAndItsDependentsWaitForBoth() {
    VolumeProvider p = new VolumeProvider();
    AtomicReference<State> desired = new AtomicReference<>(state("r1", 10, "v1"));
    InMemoryStateStore store = new InMemoryStateStore();
    Reconciler r = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(p).store(store)
        .build();
    assertThat(r.sync().isSuccessful()).isTrue();
    p.log.clear();
    p.received.clear();

    desired.set(state("r2", 20, "v2"));
    Plan plan = r.plan();
    Change replace = plan.change(DISK).orElseThrow();
    assertThat(replace.action()).isEqualTo(Action.REPLACE);
    assertThat(replace.reason()).contains("/size");
    assertThat(plan.change(APP).orElseThrow().action()).isEqualTo(Action.UPDATE);
    assertThat(plan.changes()).extracting(Change::key).containsExactly(DISK, APP);

    SyncResult result = r.sync();
    assertThat(result.isSuccessful()).as(result.toString()).isTrue();
    assertThat(p.log).containsExactly("delete data", "create data", "update web");
    Change sent = p.received.stream().filter(c -> c.key().equals(DISK)).findFirst().orElseThrow();
    assertThat(sent.action()).as("one change for the provider, not a delete and a create").isEqualTo(Action.REPLACE);
    assertThat(sent.live().get("size").intValue()).as("the object being replaced").isEqualTo(10);
    assertThat(sent.target().get("size").intValue()).isEqualTo(20);
    assertThat(p.received).hasSize(2);
    assertThat(store.load().inventory().get(DISK).resource().document().get("size").intValue()).isEqualTo(20);
    assertThat(r.plan().changes()).extracting(Change::action).containsOnly(Action.NOOP);
  }
}

package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Documents;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.core.LogCapture;
import dev.gitops.core.Reconciler;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.InMemoryProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Assume;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * For generated secrets in three styles — a Kubernetes Secret's {@code data} (a provider's
 * sensitive merge rule), a decoder-marked field ({@code Resource.sensitive}, the YAML {@code
 * sensitive:} field) and an Ansible {@code no_log} task's vars — across a create, an update and
 * out-of-band drift, no secret value appears in a serialized plan, a plan's or change's text,
 * an event, a log line (every {@code dev.gitops} logger at debug, captured by a logback appender),
 * a history entry or any byte of the file store.
 */
class SecretsProperties {

  enum Style { K8S_SECRET, DECODER_MARKED, ANSIBLE_NO_LOG }

  @Provide
  Arbitrary<String> secrets() {
    // a prefix no engine text contains, then enough randomness that a match is never chance
    return Arbitraries.strings().withChars("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+/=_-")
        .ofMinLength(10).ofMaxLength(40).map(s -> "Zq" + s);
  }

  @Property(tries = 120)
  void noRenderingEventLogHistoryOrStoreFileHoldsASecret(@ForAll("secrets") String first, @ForAll("secrets") String second,
      @ForAll("secrets") String drifted, @ForAll Style style) throws IOException {
    Assume.that(!first.equals(second) && !drifted.equals(second) && !first.contains(second) && !second.contains(first)
        && !drifted.contains(second) && !second.contains(drifted));
    Path dir = Files.createTempDirectory("secrets-");
    List<String> rendered = new CopyOnWriteArrayList<>();
    try (LogCapture logs = LogCapture.of("dev.gitops", "DEBUG")) {
      MergeRules rules = style == Style.K8S_SECRET
          ? MergeRules.builder().sensitive("/data/*", KeySelector.type("memory", "Secret")).build() : MergeRules.defaults();
      InMemoryProvider live = InMemoryProvider.builder().mergeRules(rules).build();
      ResourceKey key = live.key(style == Style.K8S_SECRET ? "Secret" : style == Style.ANSIBLE_NO_LOG ? "task" : "db",
          "ns", "credentials");
      AtomicReference<State> desired = new AtomicReference<>(State.of("r1", List.of(resource(style, key, first))));
      FileStateStore store = FileStateStore.open(dir.resolve("state"));
      Reconciler r = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(live).store(store)
          .listener(e -> rendered.add(e.toString())).build();

      SyncResult created = r.sync();
      assertThat(created.isSuccessful()).isTrue();
      render(rendered, created.plan(), store);
      rendered.add(created.toString());

      desired.set(State.of("r2", List.of(resource(style, key, second))));
      Plan update = r.plan();
      assertThat(update.hasChanges()).as("a changed secret is still seen").isTrue();
      render(rendered, update, store);
      rendered.add(r.sync().toString());

      JsonNode driftedDoc = Documents.freeze(live.get(key).orElseThrow()).deepCopy();
      ((com.fasterxml.jackson.databind.node.ObjectNode) driftedDoc.get(field(style))).put(secretKey(style), drifted);
      live.put(key, driftedDoc);
      Plan drift = r.plan();
      assertThat(drift.change(key).orElseThrow().drift()).as("drift of a secret is still seen").isTrue();
      render(rendered, drift, store);
      rendered.add(r.sync().toString());
      rendered.add(r.history().toString());
      rendered.add(storeBytes(dir.resolve("state")));
      assertThat(logs.lines()).as("the engine logged at debug while it ran").isNotEmpty();
      rendered.addAll(logs.lines());
    }
    try {
      for (String text : rendered) {
        assertThat(text).doesNotContain(first).doesNotContain(second).doesNotContain(drifted);
      }
    } finally {
      CrashWorld.deleteTree(dir);
    }
  }

  private static void render(List<String> out, Plan plan, FileStateStore store) {
    out.add(PlanCodec.toJson(plan, store.secretKey()));
    out.add(plan.toString());
    out.add(plan.summary());
    plan.changes().forEach(c -> {
      out.add(c.toString());
      c.fields().forEach(f -> out.add(f.toString()));
    });
  }

  private static String field(Style style) {
    return switch (style) {
      case K8S_SECRET -> "data";
      case DECODER_MARKED -> "auth";
      case ANSIBLE_NO_LOG -> "vars";
    };
  }

  private static String secretKey(Style style) {
    return style == Style.ANSIBLE_NO_LOG ? "vault_token" : "password";
  }

  private static Resource resource(Style style, ResourceKey key, String secret) {
    Map<String, JsonNode> inner = Map.of(secretKey(style), Documents.nodes().textNode(secret),
        "user", Documents.nodes().textNode("app"));
    Map<String, JsonNode> doc = new java.util.LinkedHashMap<>();
    doc.put(field(style), Documents.object(inner));
    if (style == Style.ANSIBLE_NO_LOG) {
      doc.put("no_log", Documents.nodes().booleanNode(true));
      doc.put("module", Documents.nodes().textNode("uri"));
    }
    Resource.Builder b = Resource.builder(key).document(Documents.object(doc));
    if (style == Style.DECODER_MARKED) {
      b.sensitive(Set.of(PathPattern.of("/auth/password")));
    } else if (style == Style.ANSIBLE_NO_LOG) {
      // what an Ansible decoder derives from no_log: true — every var of the task is sensitive
      b.sensitive(Set.of(PathPattern.of("/vars/*")));
    }
    return b.build();
  }

  private static String storeBytes(Path state) throws IOException {
    StringBuilder all = new StringBuilder();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(state)) {
      s.filter(Files::isRegularFile).forEach(files::add);
    }
    for (Path f : files) {
      all.append(f).append('\n').append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
    }
    return all.toString();
  }
}

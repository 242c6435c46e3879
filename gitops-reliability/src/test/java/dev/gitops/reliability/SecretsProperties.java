package dev.gitops.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.KeySelector;
import dev.gitops.api.MergeRules;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Plan;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.SyncEvent;
import dev.gitops.api.SyncResult;
import dev.gitops.core.render.PlanRenderer;
import dev.gitops.core.LogCapture;
import dev.gitops.core.Reconciler;
import dev.gitops.core.plan.PlanCodec;
import dev.gitops.core.redact.ShownText;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.testkit.InMemoryProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * For generated secrets in three styles — a Kubernetes Secret's {@code data} (a provider's
 * sensitive merge rule), a decoder-marked field ({@code Resource.sensitive}, the YAML {@code
 * sensitive:} field) and an Ansible {@code no_log} task's vars — through every action a secret
 * can meet: create, update, out-of-band drift, replace, a field Git removed (with its mark),
 * a skip of a key that cannot be observed, an orphan carrying our mark and a delete of a
 * drifted object; and, in a second property, secrets that are elements of a set list. No
 * secret appears in a serialized plan ({@code PlanCodec}, the CLI's JSON diff), the CLI's text
 * and Markdown renderings ({@code PlanRenderer}), a plan's, change's, field's or resource's
 * text, an event (its text and every document it carries), a log line (SLF4J at debug,
 * captured by a logback appender), a sync result, a history entry or any byte of the file store.
 */
class SecretsProperties {

  enum Style { K8S_SECRET, DECODER_MARKED, ANSIBLE_NO_LOG }

  /** The provider's rule, as Kubernetes has it for Secrets; orphans (no desired or stored resource) rely on it. */
  private static final MergeRules SECRET_RULES = MergeRules.builder()
      .sensitive("/data/*", KeySelector.type("memory", "Secret")).build();

  @Provide
  Arbitrary<List<String>> secrets() {
    // a prefix no engine text contains, then enough randomness that a match is never chance
    return Arbitraries.strings().withChars("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+/=_-")
        .ofMinLength(10).ofMaxLength(40).map(s -> "Zq" + s).list().ofSize(8).uniqueElements();
  }

  @Property(tries = 60)
  void noRenderingEventLogHistoryOrStoreFileHoldsASecretWhateverTheAction(@ForAll("secrets") List<String> s,
      @ForAll Style style) throws IOException {
    Assume.that(noneContainsAnother(s));
    World w = new World(SECRET_RULES, true);
    try {
      ResourceKey key = w.live.key(type(style), "ns", "credentials");
      Resource keep = Resource.of(w.live.key("plain", "ns", "keep"), Documents.object(Map.of("a", text("b"))));

      // create
      w.desired.set(State.of("r1", List.of(resource(style, key, s.get(0), "v1", true), keep)));
      w.sync();
      // update
      w.desired.set(State.of("r2", List.of(resource(style, key, s.get(1), "v1", true), keep)));
      assertThat(w.plan().change(key).orElseThrow().action()).as("a changed secret is still seen").isEqualTo(Action.UPDATE);
      w.sync();
      // drift: someone writes another secret live
      w.live.put(key, withSecret(w.live.get(key).orElseThrow(), style, s.get(2)), w.live.markOf(key).orElse(null));
      assertThat(w.plan().change(key).orElseThrow().drift()).as("drift of a secret is still seen").isTrue();
      w.sync();
      // replace: a field that cannot change in place changes together with the secret
      w.desired.set(State.of("r3", List.of(resource(style, key, s.get(3), "v2", true), keep)));
      assertThat(w.plan().change(key).orElseThrow().action()).isEqualTo(Action.REPLACE);
      w.sync();
      // Git removes the secret field (for decoder marks: the mark too) while it is still live
      w.desired.set(State.of("r4", List.of(resource(style, key, null, "v2", false), keep)));
      Change removed = w.plan().change(key).orElseThrow();
      assertThat(removed.action()).isEqualTo(Action.UPDATE);
      assertThat(removed.fields()).anySatisfy(f -> assertThat(f.symbol()).isEqualTo('-'));
      w.sync();
      // skip: the key cannot be observed while Git holds a new secret
      w.desired.set(State.of("r5", List.of(resource(style, key, s.get(4), "v2", true), keep)));
      w.live.makeUnobservable(key);
      assertThat(w.plan().change(key).orElseThrow().action()).isEqualTo(Action.SKIP);
      w.sync(false);
      w.live.makeObservable(key);
      w.sync();
      // orphan: an object with our mark that no inventory knows
      ResourceKey stray = w.live.key("Secret", "ns", "stray");
      w.live.put(stray, secretDoc(s.get(5)), new OwnerMark("gitops", stray));
      assertThat(w.plan().change(stray).orElseThrow().has(Change.Flag.ORPHAN)).isTrue();
      w.sync();
      // delete: Git drops the key after it drifted to yet another secret
      w.live.put(key, withSecret(w.live.get(key).orElseThrow(), style, s.get(6)), w.live.markOf(key).orElse(null));
      w.desired.set(State.of("r6", List.of(keep)));
      assertThat(w.plan().change(key).orElseThrow().action()).isEqualTo(Action.DELETE);
      w.sync();
    } finally {
      w.close();
    }
    w.assertNoneContains(s);
  }

  /**
   * Secrets that are elements of a set list under a sensitive rule. A set element's path names
   * it by value ({@code /tokens/[=value]}) until such paths carry keyed hashes instead; this
   * property holds once they do.
   */
  @Property(tries = 40)
  void setListElementsUnderASensitiveRuleAreNeverRendered(@ForAll("secrets") List<String> s) throws IOException {
    Assume.that(noneContainsAnother(s));
    MergeRules rules = MergeRules.builder().setList("/tokens").sensitive("/tokens/*", KeySelector.type("memory", "Secret"))
        .build();
    World w = new World(rules, false);
    try {
      ResourceKey key = w.live.key("Secret", "ns", "tokens");
      Resource keep = Resource.of(w.live.key("plain", "ns", "keep"), Documents.object(Map.of("a", text("b"))));
      w.desired.set(State.of("r1", List.of(tokens(key, s.get(0), s.get(1)), keep)));
      w.sync();
      w.desired.set(State.of("r2", List.of(tokens(key, s.get(0), s.get(2)), keep)));
      assertThat(w.plan().change(key).orElseThrow().action()).isEqualTo(Action.UPDATE);
      w.sync();
      w.live.put(key, tokens(key, s.get(0), s.get(2), s.get(3)).document());
      w.plan();
      w.sync();
      w.desired.set(State.of("r3", List.of(keep)));
      assertThat(w.plan().change(key).orElseThrow().action()).isEqualTo(Action.DELETE);
      w.sync();
    } finally {
      w.close();
    }
    w.assertNoneContains(s);
  }

  /** One reconciler over an in-memory provider and a file store, and everything it rendered. */
  private static final class World {
    final Path dir = Files.createTempDirectory("secrets-");
    final InMemoryProvider live;
    final AtomicReference<State> desired = new AtomicReference<>(State.of("r0", List.of()));
    final FileStateStore store;
    final Reconciler reconciler;
    final List<String> rendered = new CopyOnWriteArrayList<>();
    final LogCapture logs = LogCapture.of("dev.gitops", "DEBUG");

    World(MergeRules rules, boolean marks) throws IOException {
      live = InMemoryProvider.builder().mergeRules(rules).marks(marks)
          .requiresReplace((k, p) -> p.toString().equals("/immutable")).build();
      store = FileStateStore.open(dir.resolve("state"));
      reconciler = Reconciler.builder().source(dev.gitops.api.spi.Source.of(desired::get)).provider(live).store(store)
          .listener(this::event).build();
    }

    Plan plan() {
      Plan p = reconciler.plan();
      render(p);
      return p;
    }

    void sync() throws IOException {
      sync(true);
    }

    /** Syncs; {@code mustSucceed} is false where a key cannot be observed and the result is incomplete. */
    void sync(boolean mustSucceed) throws IOException {
      SyncResult r = reconciler.sync();
      if (mustSucceed) {
        assertThat(r.isSuccessful()).as(r.toString()).isTrue();
      }
      render(r.plan());
      rendered.add(r.toString());
      rendered.add(reconciler.history().toString());
      rendered.add(ShownText.storeBytes(dir.resolve("state")));
    }

    /** Every rendering of a plan: the plan file and JSON diff, the CLI's text and Markdown, every text form. */
    void render(Plan plan) {
      rendered.add(PlanCodec.toJson(plan, store.secretKey()));
      rendered.add(PlanRenderer.text(plan));
      rendered.add(PlanRenderer.markdown(plan));
      rendered.add(plan.toString());
      rendered.add(plan.summary());
      plan.changes().forEach(c -> {
        rendered.add(c.toString());
        c.fields().forEach(f -> rendered.add(f.toString()));
        if (c.resource() != null) {
          rendered.add(c.resource().toString());
        }
      });
    }

    /** An event's text and every document it carries: listeners forward them (notifications, progress). */
    void event(SyncEvent e) {
      rendered.add(ShownText.of(e));
    }

    void close() throws IOException {
      logs.close();
      store.close();
      rendered.add(ShownText.storeBytes(dir.resolve("state")));
      assertThat(logs.lines()).as("the engine logged at debug while it ran").isNotEmpty();
      rendered.addAll(logs.lines());
      CrashWorld.deleteTree(dir);
    }

    void assertNoneContains(List<String> secrets) {
      for (String text : rendered) {
        for (String secret : secrets) {
          assertThat(text).doesNotContain(secret);
        }
      }
    }
  }

  private static boolean noneContainsAnother(List<String> s) {
    for (String a : s) {
      for (String b : s) {
        if (a != b && a.contains(b)) {
          return false;
        }
      }
    }
    return true;
  }

  private static JsonNode text(String s) {
    return Documents.nodes().textNode(s);
  }

  private static String type(Style style) {
    return switch (style) {
      case K8S_SECRET -> "Secret";
      case DECODER_MARKED -> "db";
      case ANSIBLE_NO_LOG -> "task";
    };
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

  private static JsonNode secretDoc(String secret) {
    return Documents.object(Map.of("data", Documents.object(Map.of("password", text(secret), "user", text("app")))));
  }

  /** {@code live} with the secret replaced by {@code secret}. */
  private static JsonNode withSecret(JsonNode live, Style style, String secret) {
    JsonNode copy = Documents.mutableCopy(live);
    ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get(field(style))).put(secretKey(style), secret);
    return Documents.freeze(copy);
  }

  /**
   * The resource in {@code style}: the secret (left out when null), a plain field, and a field that
   * cannot change in place; {@code marked} says whether the decoder marks the secret's path.
   */
  private static Resource resource(Style style, ResourceKey key, String secret, String immutable, boolean marked) {
    Map<String, JsonNode> inner = new LinkedHashMap<>();
    if (secret != null) {
      inner.put(secretKey(style), text(secret));
    }
    inner.put("user", text("app"));
    Map<String, JsonNode> doc = new LinkedHashMap<>();
    doc.put(field(style), Documents.object(inner));
    doc.put("immutable", text(immutable));
    if (style == Style.ANSIBLE_NO_LOG) {
      doc.put("no_log", Documents.nodes().booleanNode(true));
      doc.put("module", text("uri"));
    }
    Resource.Builder b = Resource.builder(key).document(Documents.object(doc));
    if (marked && style == Style.DECODER_MARKED) {
      b.sensitive(Set.of(PathPattern.of("/auth/password")));
    } else if (marked && style == Style.ANSIBLE_NO_LOG) {
      // what an Ansible decoder derives from no_log: true — every var of the task is sensitive
      b.sensitive(Set.of(PathPattern.of("/vars/*")));
    }
    return b.build();
  }

  private static Resource tokens(ResourceKey key, String... values) {
    List<JsonNode> list = new ArrayList<>();
    for (String v : values) {
      list.add(text(v));
    }
    return Resource.of(key, Documents.object(Map.of("tokens", Documents.array(list), "kind", text("Secret"))));
  }
}

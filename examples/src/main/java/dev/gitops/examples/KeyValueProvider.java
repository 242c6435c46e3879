package dev.gitops.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Origin;
import dev.gitops.api.Outcome;
import dev.gitops.api.PathPattern;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.SourceFile;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A complete custom {@link Provider}: it keeps a {@link KeyValueStore} in line with {@code *.kv}
 * files in Git. Each line {@code name = value} of a file {@code shop.kv} declares the entry
 * {@code shop/name}, with the document {@code {"value": "..."}}; lines starting with {@code #}
 * are comments; names ending in {@code .password}, {@code .secret} or {@code .token} are marked
 * sensitive, so their values never show in plans, diffs or logs.
 *
 * <p>The two required methods are {@link #observe} and {@link #apply}; {@link #decoder()} is
 * optional and makes the provider read its own files. Everything else keeps the SPI's defaults.
 *
 * <pre>{@code
 * KeyValueStore live = new KeyValueStore();
 * try (Reconciler reconciler = Reconciler.builder()
 *     .source(GitSource.builder().url("https://example.com/settings.git").ref("main").build())
 *     .provider(new KeyValueProvider(live))
 *     .store(FileStateStore.open(Path.of("/var/lib/settings-sync")))
 *     .build()) {      // close() closes the Git source and the store
 *   reconciler.sync();   // live now holds every entry of every *.kv file
 * }
 * }</pre>
 *
 * <p>Resource keys: provider {@code kv}, type {@code entry}, scope the file's name without
 * {@code .kv} (and without directories), name the entry name: {@code kv:entry:shop:port}.
 */
public final class KeyValueProvider implements Provider {

  /** This provider's id. */
  public static final String ID = "kv";
  /** The one resource type. */
  public static final String TYPE = "entry";

  private static final Set<String> SECRET_SUFFIXES = Set.of(".password", ".secret", ".token");

  private final KeyValueStore live;

  /** A provider over {@code live}. */
  public KeyValueProvider(KeyValueStore live) {
    this.live = Objects.requireNonNull(live, "live");
  }

  /** The key of entry {@code name} declared in file {@code scope}.kv. */
  public static ResourceKey key(String scope, String name) {
    return ResourceKey.of(ID, TYPE, scope, name);
  }

  /** The store entry a key stands for: {@code scope/name}. */
  static String entryName(ResourceKey key) {
    return key.scope().isEmpty() ? key.name() : key.scope() + "/" + key.name();
  }

  @Override
  public String id() {
    return ID;
  }

  /** Reads each key's entry; the entry's version is the version token. Never UNKNOWN: the map is always there. */
  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    for (ResourceKey k : keys) {
      out.put(k, live.get(entryName(k))
          .map(e -> Observation.present(k, e.value(), Long.toString(e.version())))
          .orElseGet(() -> Observation.absent(k)));
    }
    return out;
  }

  /** Writes the merged target (create, update, replace) or removes the entry (delete); idempotent. */
  @Override
  public Outcome apply(Change change, CallContext ctx) {
    String name = entryName(change.key());
    Action a = change.action();
    if (a == Action.CREATE || a == Action.UPDATE || a == Action.REPLACE) {
      JsonNode target = change.target() != null ? change.target() : change.desired();
      if (target == null) {
        return Outcome.permanentFailure(change.key() + ": " + a + " without a target document", null);
      }
      boolean existed = live.get(name).isPresent();
      live.put(name, target);
      return existed && a != Action.CREATE ? Outcome.configured() : Outcome.created();
    }
    if (a == Action.DELETE) {
      live.remove(name);
      return Outcome.deleted();
    }
    return Outcome.unchanged();
  }

  /** Claims {@code *.kv} files. */
  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(new KvDecoder());
  }

  /** Reads {@code name = value} lines; names are unique within a file. */
  static final class KvDecoder implements Decoder {
    @Override
    public boolean claims(String path) {
      return path.endsWith(".kv");
    }

    @Override
    public List<Resource> decode(SourceFile file) {
      String base = file.path().substring(file.path().lastIndexOf('/') + 1);
      String scope = base.substring(0, base.length() - ".kv".length());
      List<Resource> out = new ArrayList<>();
      Map<String, Integer> seen = new LinkedHashMap<>();
      String[] lines = file.text().split("\\R", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i].strip();
        Origin origin = Origin.of(file.path(), i + 1, file.revision());
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int eq = line.indexOf('=');
        if (eq <= 0) {
          throw new DecodeException(origin, "expected 'name = value', got '" + line + "'");
        }
        String name = line.substring(0, eq).strip();
        String value = line.substring(eq + 1).strip();
        Integer first = seen.putIfAbsent(name, i + 1);
        if (first != null) {
          throw new DecodeException(origin, "entry '" + name + "' is declared twice (first at line " + first + ")");
        }
        ObjectNode doc = Documents.nodes().objectNode();
        doc.put("value", value);
        Resource.Builder b = Resource.builder(key(scope, name)).document(doc).origin(origin);
        if (SECRET_SUFFIXES.stream().anyMatch(name::endsWith)) {
          b.sensitive(Set.of(PathPattern.of("/value")));
        }
        out.add(b.build());
      }
      return out;
    }

    @Override
    public String fingerprint() {
      return "kv-decoder-1";
    }
  }
}

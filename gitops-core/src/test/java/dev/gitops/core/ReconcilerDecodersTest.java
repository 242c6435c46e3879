package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Change;
import dev.gitops.api.Observation;
import dev.gitops.api.Outcome;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.State;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.Source;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.DocumentMapping;
import dev.gitops.core.decode.GlobDecoder;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.core.store.InMemoryStateStore;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Decoders given to the Reconciler per path glob: handed to the source before the providers' decoders. */
class ReconcilerDecodersTest {

  /** A provider that brings a decoder claiming every YAML file. */
  private static final class DecodingProvider implements Provider {
    @Override
    public String id() {
      return "m";
    }

    @Override
    public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
      Map<ResourceKey, Observation> out = new LinkedHashMap<>();
      keys.forEach(k -> out.put(k, Observation.absent(k)));
      return out;
    }

    @Override
    public Outcome apply(Change change, CallContext ctx) {
      return Outcome.created();
    }

    @Override
    public Optional<Decoder> decoder() {
      return Optional.of(YamlManifestDecoder.builder().defaultProvider("m").build());
    }
  }

  @Test
  void globDecodersComeFirstThenTheProvidersDecoders() {
    AtomicReference<List<Decoder>> asked = new AtomicReference<>();
    Source source = request -> {
      asked.set(request.decoders());
      return State.of("r1", List.of());
    };
    Decoder settings = YamlManifestDecoder.builder().map(DocumentMapping.when("/kind", "Setting").provider("m")
        .type("setting").nameFrom("/name").build()).build();
    Reconciler r = Reconciler.builder().source(source).provider(new DecodingProvider())
        .store(new InMemoryStateStore()).decoder("settings/**/*.yaml", settings).build();
    r.plan();
    assertThat(asked.get()).hasSize(2);
    assertThat(asked.get().get(0)).isInstanceOfSatisfying(GlobDecoder.class,
        g -> assertThat(g.glob()).isEqualTo("settings/**/*.yaml"));
    assertThat(asked.get().get(1)).isInstanceOf(YamlManifestDecoder.class);

    SourceFile setting = new SourceFile("settings/eu/a.yaml", "b", "kind: Setting\nname: x\nvalue: 1\n".getBytes(
        java.nio.charset.StandardCharsets.UTF_8), "r1");
    Decoder first = asked.get().stream().filter(d -> d.claims(setting.path())).findFirst().orElseThrow();
    List<Resource> rs = first.decode(setting);
    assertThat(rs).extracting(Resource::key).containsExactly(ResourceKey.of("m", "setting", "x"));
  }
}

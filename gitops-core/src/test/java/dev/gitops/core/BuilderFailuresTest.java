package dev.gitops.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.MergeRules;
import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.core.decode.DocumentMapping;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every builder of the public API fails the same way: a part that {@code build()} needs and was
 * never given is an {@link IllegalStateException} from {@code build()} naming it and the call that
 * gives it; a null handed to a builder method is a {@link NullPointerException} naming the
 * parameter, at once.
 */
class BuilderFailuresTest {

  @Test
  void reconcilerBuilder() {
    MapProvider p = new MapProvider("m", false);
    State s = State.of("r1", List.of());
    assertThatThrownBy(() -> Reconciler.builder().provider(p).inMemoryStore().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("Reconciler needs a source: call .source(...) or .desiredState(...)");
    assertThatThrownBy(() -> Reconciler.builder().desiredState(s).inMemoryStore().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("Reconciler needs a provider: call .provider(...)");
    assertThatThrownBy(() -> Reconciler.builder().desiredState(s).provider(p).build())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("Reconciler needs a store: call .store(");
    assertThatThrownBy(() -> Reconciler.builder().store(null)).isInstanceOf(NullPointerException.class).hasMessage("store");
    assertThatThrownBy(() -> Reconciler.builder().source(null)).isInstanceOf(NullPointerException.class).hasMessage("source");
  }

  @Test
  void aProviderIdThatCannotNameKeysAndBadArgumentsAreNamedAtOnce() {
    for (String bad : new String[] {null, "", " ", "a b", "-x"}) {
      dev.gitops.api.spi.Provider p = new dev.gitops.api.spi.DelegatingProvider(new MapProvider("m", false)) {
        @Override
        public String id() {
          return bad;
        }
      };
      assertThatThrownBy(() -> Reconciler.builder().provider(p)).as(String.valueOf(bad))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has id")
          .hasMessageContaining(bad == null ? "null" : "'" + bad + "'");
    }
    assertThatThrownBy(() -> SyncOptions.builder().lockTimeout(java.time.Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lockTimeout must not be negative");
    try (Reconciler r = Reconciler.builder().desiredState(dev.gitops.api.State.of("r1", java.util.List.of()))
        .provider(new MapProvider("m", false)).inMemoryStore().build()) {
      assertThatThrownBy(() -> r.sync(null, null)).isInstanceOf(NullPointerException.class).hasMessage("cancellation");
    }
  }

  @Test
  void gitSourceBuilder() {
    assertThatThrownBy(() -> GitSource.builder().ref("main").build())
        .isInstanceOf(IllegalStateException.class).hasMessage("GitSource needs a url: call .url(...)");
    assertThatThrownBy(() -> GitSource.builder().url("ssh://git@example.com/ops.git").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs credentials(Credentials.sshKey(");
    assertThatThrownBy(() -> GitSource.builder().url(null)).isInstanceOf(NullPointerException.class).hasMessage("url");
    assertThatThrownBy(() -> GitSource.builder().url("ftp://127.0.0.1/x.git"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scheme ftp is not supported");
    for (String scp : new String[] {"git@[::1]:ops.git", "[fd00::2]:ops.git", "git@[fd00::2]:2222/ops.git"}) {
      assertThatThrownBy(() -> GitSource.builder().url(scp)).as(scp).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("'" + scp + "': an IPv6 address is not read in the scp-like form")
          .hasMessageContaining("write ssh://user@[address]:port/path");
    }
    assertThat(GitSource.builder().url("git@example.com:ops.git")).as("scp-like with a host name").isNotNull();
    assertThatThrownBy(() -> Reconciler.builder().owner("ev\u001b[31mil\u202e"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("owner id must not hold control or format characters: 'ev\\u001b[31mil\\u202e'");
    for (String blank : new String[] {"", "  ", "\t\n"}) {
      assertThatThrownBy(() -> GitSource.builder().url(blank)).as("'%s'", blank)
          .isInstanceOf(IllegalArgumentException.class).hasMessage("url must not be empty or blank");
    }
  }

  @Test
  void aCacheDirectoryThatIsAFileIsRefusedAtOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws java.io.IOException {
    java.nio.file.Path file = java.nio.file.Files.writeString(tmp.resolve("cache"), "x");
    assertThatThrownBy(() -> GitSource.builder().cacheDir(file))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("cacheDir " + file + " is not a directory");
    assertThat(GitSource.builder().cacheDir(tmp.resolve("not-yet"))).as("made at the first read").isNotNull();
  }

  @Test
  void documentMappingAndYamlManifestDecoderBuilders() {
    assertThatThrownBy(() -> DocumentMapping.when("/kind", "Setting").nameFrom("/name").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a type: call .type(");
    assertThatThrownBy(() -> DocumentMapping.when("/kind", "Setting").type("setting").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a name: call .nameFrom(");
    DocumentMapping noProvider = DocumentMapping.when("/kind", "Setting").type("setting").nameFrom("/name").build();
    assertThatThrownBy(() -> YamlManifestDecoder.builder().map(noProvider).build())
        .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("YamlManifestDecoder needs a provider for ")
        .hasMessageContaining("call .defaultProvider(id)");
    assertThatThrownBy(() -> YamlManifestDecoder.builder().map(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("mapping");
  }

  @Test
  void builderEntryPointsTakeTheirRequiredPartAsAnArgument() {
    // LocalFilesProvider, ReconcileLoop, FileStateStore and Resource take what they cannot do without
    // in the call that starts them, so build() has nothing left to miss; a null is named at once
    assertThatThrownBy(() -> LocalFilesProvider.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("target");
    assertThatThrownBy(() -> ReconcileLoop.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("reconciler");
    assertThatThrownBy(() -> FileStateStore.open(null)).isInstanceOf(NullPointerException.class).hasMessage("dir");
    assertThatThrownBy(() -> FileStateStore.Options.defaults().withLockPollInterval(null))
        .isInstanceOf(NullPointerException.class).hasMessage("lockPollInterval");
    assertThatThrownBy(() -> FileStateStore.Options.defaults().withWriteListener(null))
        .isInstanceOf(NullPointerException.class).hasMessage("writeListener");
    assertThatThrownBy(() -> Resource.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("key");
    assertThatThrownBy(() -> SyncOptions.builder().lockTimeout(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("lockTimeout");
    assertThatThrownBy(() -> ReconcileLoop.builder(Reconciler.builder().desiredState(State.of("r", List.of()))
        .provider(new MapProvider("m", false)).inMemoryStore().build()).maxBackoff(null))
        .isInstanceOf(NullPointerException.class).hasMessage("maxBackoff");
    assertThatThrownBy(() -> MergeRules.builder().nullMode(null)).isInstanceOf(NullPointerException.class).hasMessage("mode");
    assertThatThrownBy(() -> FileStateStore.Options.defaults().withLockPollInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lock poll interval");
  }
}

package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class ResourceKeyTest {

  @Property
  void canonicalFormParsesBackToTheSameKey(@ForAll @StringLength(min = 1, max = 12) String provider,
      @ForAll @StringLength(min = 1, max = 12) String type, @ForAll @StringLength(max = 12) String scope,
      @ForAll @StringLength(min = 1, max = 20) String name) {
    ResourceKey key = ResourceKey.of(provider, type, scope, name);
    assertThat(ResourceKey.parse(key.toString())).isEqualTo(key);
  }

  @Test
  void colonsAndPercentSignsAreEscaped() {
    ResourceKey key = ResourceKey.of("k8s", "apps/Deployment", "ns:a", "100%:x");
    assertThat(key.toString()).isEqualTo("k8s:apps/Deployment:ns%3Aa:100%25%3Ax");
    assertThat(ResourceKey.parse(key.toString())).isEqualTo(key);
  }

  @Test
  void badTextAndEmptyPartsAreRejectedNamingTheValue() {
    assertThatThrownBy(() -> ResourceKey.parse("files:file:x")).hasMessageContaining("'files:file:x'");
    assertThatThrownBy(() -> ResourceKey.of("", "t", "", "n")).hasMessageContaining("provider");
    assertThatThrownBy(() -> ResourceKey.of("p", "t", "", "")).hasMessageContaining("name");
  }

  @Test
  void keysOrderByProviderTypeScopeName() {
    List<ResourceKey> keys = new ArrayList<>(List.of(ResourceKey.of("b", "t", "", "a"), ResourceKey.of("a", "u", "", "a"),
        ResourceKey.of("a", "t", "s", "a"), ResourceKey.of("a", "t", "", "b")));
    Collections.sort(keys);
    assertThat(keys).extracting(ResourceKey::toString).containsExactly("a:t::b", "a:t:s:a", "a:u::a", "b:t::a");
  }

  @Test
  void anUnscopedKeyHasAnEmptyScope() {
    ResourceKey key = ResourceKey.of("files", "file", "conf/app.yaml");
    assertThat(key).isEqualTo(ResourceKey.of("files", "file", "", "conf/app.yaml"));
    assertThat(key.scope()).isEmpty();
    assertThat(key.toString()).isEqualTo("files:file::conf/app.yaml");
    assertThatThrownBy(() -> ResourceKey.of("files", "file", "")).hasMessageContaining("name");
  }
}

package dev.gitops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
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

  @Property
  void keysAreEqualExactlyWhenEveryPartIsAndEqualKeysHashAlike(
      @ForAll("parts") String provider, @ForAll("parts") String type, @ForAll("parts") String scope,
      @ForAll("parts") String name, @ForAll("parts") String other, @ForAll @IntRange(max = 3) int changed) {
    ResourceKey key = ResourceKey.of(provider, type, scope, name);
    // equal parts in other string instances (names are not interned)
    ResourceKey same = ResourceKey.of(new String(provider), new String(type), new String(scope), new String(name));
    assertThat(same).isEqualTo(key).hasSameHashCodeAs(key);
    assertThat(same.compareTo(key)).isZero();
    String[] parts = {provider, type, scope, name};
    parts[changed] = other;
    ResourceKey moved = ResourceKey.of(parts[0], parts[1], parts[2], parts[3]);
    assertThat(moved.equals(key)).isEqualTo(other.equals(List.of(provider, type, scope, name).get(changed)))
        .isEqualTo(moved.compareTo(key) == 0);
  }

  @net.jqwik.api.Provide
  net.jqwik.api.Arbitrary<String> parts() {
    return net.jqwik.api.Arbitraries.of("a", "b", "ab", "k8s", "team-1", "w-000001", "w-000002");
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
    for (String bad : java.util.List.of("", "a", "a:b", "a:b:c:d:", "a:b:c:d:e", ":::::", "a:b:c:d%3A:")) {
      assertThatThrownBy(() -> ResourceKey.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + bad + "'");
    }
    assertThatThrownBy(() -> ResourceKey.parse(":t::n")).hasMessageContaining("provider");
    assertThatThrownBy(() -> ResourceKey.parse("p:t::")).hasMessageContaining("name");
    assertThat(ResourceKey.parse("p:t::n")).isEqualTo(ResourceKey.of("p", "t", "", "n"));
    assertThat(ResourceKey.parse("p:t:s:a%3Ab%25")).isEqualTo(ResourceKey.of("p", "t", "s", "a:b%"));
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

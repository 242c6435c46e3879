package dev.gitops.core.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GlobTest {

  @Test
  void doubleStarSlashAlsoMatchesTheTopLevel() {
    Glob g = Glob.of("**/*.json");
    assertThat(g.matches("a.json")).isTrue();
    assertThat(g.matches("x/y/a.json")).isTrue();
    assertThat(g.matches("a.yaml")).isFalse();
  }

  @Test
  void singleStarStaysInsideOneSegment() {
    Glob g = Glob.of("config/*.yaml");
    assertThat(g.matches("config/app.yaml")).isTrue();
    assertThat(g.matches("config/sub/app.yaml")).isFalse();
    assertThat(g.matches("other/app.yaml")).isFalse();
  }

  @Test
  void trailingDoubleStarMatchesEverythingBelow() {
    Glob g = Glob.of("conf.d/**");
    assertThat(g.matches("conf.d/a")).isTrue();
    assertThat(g.matches("conf.d/a/b.json")).isTrue();
    assertThat(g.matches("conf.dx/a")).isFalse();
  }

  @Test
  void bracesAreAlternativesAndDotsAreLiteral() {
    Glob g = Glob.of("*.{yaml,yml}");
    assertThat(g.matches("a.yaml")).isTrue();
    assertThat(g.matches("a.yml")).isTrue();
    assertThat(g.matches("a.json")).isFalse();
    assertThat(Glob.of("a.json").matches("axjson")).isFalse();
    assertThat(Glob.of("?.txt").matches("ab.txt")).isFalse();
  }

  @Test
  void unbalancedBraceIsAnErrorNamingTheGlob() {
    assertThatThrownBy(() -> Glob.of("*.{a,b")).hasMessageContaining("*.{a,b");
  }
}

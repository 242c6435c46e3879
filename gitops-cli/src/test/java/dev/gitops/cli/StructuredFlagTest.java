package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --structured} takes globs as docs/cli.md describes them, {@code {a,b}} included: a comma
 * separates two globs only outside braces. Before, the flag was split at every comma, so
 * {@code '{k8s,apps}/*.yaml'} was refused as two unbalanced globs.
 */
class StructuredFlagTest {

  @TempDir Path tmp;

  @Test
  void aBraceAlternationIsOneGlobAndACommaOutsideBracesSeparatesTwo() throws Exception {
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("k8s/a.yaml", "kind: A\nn: 1\n").write("apps/b.yaml", "kind: B\nn: 2\n")
          .write("conf/c.json", "{\"kind\": \"C\"}\n").write("other/d.yaml", "kind: D\n").commit("files");
      String[] plan = {"plan", "--repo", repo.dir().toString(), "--target", tmp.resolve("target").toString()};

      CliRun braces = gitops(concat(plan, "--structured", "{k8s,apps}/*.yaml"));
      assertThat(braces.code()).as(braces.toString()).isZero();
      assertThat(braces.out()).contains("/data/kind: \"A\"").contains("/data/kind: \"B\"")
          .contains("files:file::other/d.yaml").doesNotContain("/data/kind: \"D\"");

      CliRun two = gitops(concat(plan, "--structured", "{k8s,apps}/*.yaml,conf/*.json"));
      assertThat(two.code()).as(two.toString()).isZero();
      assertThat(two.out()).contains("/data/kind: \"A\"").contains("/data/kind: \"B\"").contains("/data/kind: \"C\"")
          .doesNotContain("/data/kind: \"D\"");

      CliRun unbalanced = gitops(concat(plan, "--structured", "{k8s,apps/*.yaml"));
      assertThat(unbalanced.code()).isEqualTo(ExitCodes.ERROR);
      assertThat(unbalanced.err()).contains("unbalanced '{' in glob '{k8s,apps/*.yaml'");
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}

package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.redact.ShownText;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kubernetes-Secret-shaped YAML synced as a file: with a sensitive rule (flag or repository
 * config) neither its Git nor its live password appears in plan, diff (text, Markdown, JSON),
 * status, history, a saved plan file or the store — through drift and after it leaves Git.
 */
class SecretsCliIT {

  @TempDir
  Path tmp;

  static final String SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: app\n  password: %s\n";

  private List<String> args(FixtureRepo repo, String command, List<String> extra) {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        tmp.resolve("target").toString()));
    a.addAll(extra);
    return a;
  }

  @Test
  void sensitiveFlagOnAStructuredFileHidesOnlyThePassword() throws Exception {
    List<String> out = run(List.of("--structured", "*.yaml", "--sensitive", "secret.yaml:/data/password"), false);
    assertThat(String.join("\n", out)).as("other fields still show").contains("/data/data/password").contains("(sensitive)");
  }

  @Test
  void sensitiveFlagOnAPlainFileHidesTheWholeFile() throws Exception {
    List<String> out = run(List.of("--sensitive", "secret.yaml:/data/password"), false);
    assertThat(String.join("\n", out)).contains("/content").contains("(sensitive)");
  }

  @Test
  void repositoryConfigHidesTheSameWithoutAFlag() throws Exception {
    run(List.of("--structured", "*.yaml"), true);
    assertThat(tmp.resolve("target/.gitops.yaml")).doesNotExist();
  }

  @Test
  void aBadSensitiveFlagIsAnErrorNamingIt() throws Exception {
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      repo.write("a.txt", "a\n").commit("one");
      GitopsJar.Result r = GitopsJar.run(tmp, args(repo, "plan", List.of("--sensitive", "{a.yaml:/x")).toArray(String[]::new));
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(r.errLines()).singleElement().asString().contains("--sensitive").contains("{a.yaml:/x");
    }
  }

  /** Syncs, drifts, removes the secret from Git; returns every output, having checked none holds a password. */
  private List<String> run(List<String> flags, boolean viaConfig) throws Exception {
    List<String> seen = new ArrayList<>();
    try (FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"))) {
      if (viaConfig) {
        repo.write(".gitops.yaml", "files:\n  sensitive:\n    - \"secret.yaml:/data/password\"\n");
      }
      repo.write("secret.yaml", SECRET.formatted("gitPw1x")).write("keep.txt", "keep\n").commit("one");
      seen.add(ok(repo, "sync", flags));
      Path live = tmp.resolve("target/secret.yaml");
      assertThat(Files.readString(live)).contains("gitPw1x");

      Files.writeString(live, SECRET.formatted("livePw2x"));
      GitopsJar.Result status = GitopsJar.run(tmp, args(repo, "status", flags).toArray(String[]::new));
      assertThat(status.code()).as(status.toString()).isEqualTo(2);
      assertThat(status.out()).contains("Drifted");
      seen.add(status.toString());
      for (String format : List.of("text", "markdown", "json")) {
        List<String> f = new ArrayList<>(flags);
        f.addAll(List.of("--format", format));
        seen.add(ok(repo, "diff", f));
      }
      Path planFile = tmp.resolve("plan.json");
      List<String> out = new ArrayList<>(flags);
      out.addAll(List.of("--out", planFile.toString()));
      seen.add(ok(repo, "plan", out));
      seen.add(Files.readString(planFile));

      repo.remove("secret.yaml").commit("two");
      Files.writeString(live, SECRET.formatted("livePw3x"));
      seen.add(ok(repo, "plan", out));
      seen.add(Files.readString(planFile));
      seen.add(ok(repo, "diff", List.of("--format", "json")));
      seen.add(ok(repo, "sync", flags));
      seen.add(ok(repo, "history", List.of()));
      assertThat(live).doesNotExist();
    }
    seen.add(ShownText.storeBytes(tmp.resolve("target/.gitops")));
    for (String s : seen) {
      assertThat(s).doesNotContain("gitPw1x").doesNotContain("livePw2x").doesNotContain("livePw3x");
    }
    return seen;
  }

  private String ok(FixtureRepo repo, String command, List<String> flags) throws Exception {
    GitopsJar.Result r = GitopsJar.run(tmp, args(repo, command, flags).toArray(String[]::new));
    assertThat(r.code()).as(r.toString()).isZero();
    return r.toString();
  }
}

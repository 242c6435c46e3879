package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's secret key deleted by hand is never made again silently: the store's records and the
 * saved plans hold sensitive values as HMACs under it, so every command refuses, naming the file.
 */
class LostSecretKeyTest {

  @TempDir
  Path tmp;

  @Test
  void aDeletedSecretKeyIsRefusedNamingTheFileNotReplaced() throws Exception {
    FixtureRepo repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("s.json", "{\"user\":\"u\",\"password\":\"first\"}\n").commit("one");
    String[] flags = {"--repo", repo.dir().toString(), "--target", tmp.resolve("t").toString(),
        "--structured", "*.json", "--sensitive", "s.json:/password"};
    assertThat(gitops(with("sync", flags)).code()).isZero();
    repo.write("s.json", "{\"user\":\"u\",\"password\":\"second\"}\n").commit("two");
    Path plan = tmp.resolve("plan.json");
    assertThat(gitops(with("plan", flags, "--out", plan.toString())).code()).isZero();
    Path key = tmp.resolve("t/.gitops/secret.key");
    Files.delete(key);

    CliRun reviewed = gitops(with("sync", flags, "--plan", plan.toString()));
    assertThat(reviewed.code()).as("%s", reviewed).isEqualTo(ExitCodes.ERROR);
    assertThat(reviewed.err()).contains("the secret key " + key + " is missing while the store holds records");
    for (String cmd : new String[] {"sync", "plan", "status"}) {
      CliRun r = gitops(with(cmd, flags));
      assertThat(r.code()).as("%s: %s", cmd, r).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).as(cmd).contains("the secret key " + key + " is missing");
    }
    CliRun out = gitops(with("plan", flags, "--out", tmp.resolve("again.json").toString()));
    assertThat(out.code()).as("%s", out).isEqualTo(ExitCodes.ERROR);
    assertThat(key).as("never made again behind the user's back").doesNotExist();
    assertThat(tmp.resolve("t/s.json")).content().contains("first");
  }

  private static String[] with(String command, String[] flags, String... more) {
    String[] a = new String[1 + flags.length + more.length];
    a[0] = command;
    System.arraycopy(flags, 0, a, 1, flags.length);
    System.arraycopy(more, 0, a, 1 + flags.length, more.length);
    return a;
  }
}

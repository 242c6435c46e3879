package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile input through the real jar: guard refusals exit 3, nothing applied, nothing recorded. */
class HostileInputCliIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").write("--help", "a file, not an option\n")
        .write("-rf", "a file too\n").commit("initial");
  }

  private GitopsJar.Result gitops(String command, String... more) throws Exception {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return GitopsJar.run(tmp, a.toArray(String[]::new));
  }

  /** Every file of the target and the store (the lock file and the Git fetch cache aside) with its bytes. */
  private Map<String, String> bytes(Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        // caches, not state: the lock, the Git cache, and the files provider's claim listing (written by
        // any sync's observation, a refused one too, once the claims' directory has settled for 2 s)
        Path rel = dir.relativize(p);
        if (Files.isRegularFile(p) && !p.getFileName().toString().equals("lock")
            && !rel.startsWith(Path.of(".gitops", "git-cache"))
            && !rel.equals(Path.of(".gitops", "files", "owners.listing"))) {
          out.put(rel.toString(), HexFormat.of().formatHex(Files.readAllBytes(p)));
        }
      }
    }
    return out;
  }

  @Test
  void optionLikeFileNamesAreSyncedAsFiles() throws Exception {
    GitopsJar.Result r = gitops("sync");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(Files.readString(target.resolve("--help"))).isEqualTo("a file, not an option\n");
    assertThat(Files.readString(target.resolve("-rf"))).isEqualTo("a file too\n");
  }

  @Test
  void anEmptyDesiredStateExitsThreeAndChangesNothing() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    Files.writeString(target.resolve("unmanaged.txt"), "mine\n");
    repo.remove("app.properties").remove("--help").remove("-rf").write("README", "").commit("everything gone");
    Map<String, String> before = bytes(target);

    GitopsJar.Result r = gitops("sync");
    assertThat(r.code()).as(r.toString()).isEqualTo(3);
    assertThat(r.errLines()).singleElement().asString().startsWith("gitops: refused by mass-deletion guard")
        .contains("files");
    assertThat(bytes(target)).as("target and store unchanged").isEqualTo(before);
  }

  @Test
  void aCorruptStoreExitsOneNamingTheFileAndChangesNothing() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    // the store's journal holds the first sync's records (pending, then applied): damage in the first is corruption
    Path entry = target.resolve(".gitops/journal");
    byte[] b = Files.readAllBytes(entry);
    b[20] = (byte) 0xFF;
    Files.write(entry, b);
    repo.write("app.properties", "name=changed\n").commit("change");
    Map<String, String> before = bytes(target);

    GitopsJar.Result r = gitops("sync");
    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.errLines()).singleElement().asString().contains(entry.getFileName().toString()).contains("corrupt");
    assertThat(bytes(target)).as("target and store unchanged").isEqualTo(before);
  }

  @Test
  void fileNamesWithLineBreaksAndEscapeSequencesArePrintedEscapedByEveryCommand() throws Exception {
    // a line break would forge a line of the report; ESC and a bidi override would redraw or reorder the terminal
    String name = "odd/new\nline\u001b[2J\u202eevil.conf";
    String shown = "files:file::odd/new\\nline\\u001b[2J\\u202eevil.conf";
    repo.write(name, "x=1\n").commit("a hostile file name");

    GitopsJar.Result sync = gitops("sync");
    assertThat(sync.code()).as(sync.toString()).isZero();
    assertThat(Files.readString(target.resolve(name))).isEqualTo("x=1\n");
    Files.writeString(target.resolve(name), "x=2\n");
    GitopsJar.Result status = gitops("status");
    GitopsJar.Result plan = gitops("plan");
    repo.write("bad\u001b[31m.yaml", "a: [1\n").commit("a file that does not parse");
    GitopsJar.Result refused = gitops("sync", "--structured", "*.yaml");

    assertThat(sync.out()).contains("  + " + shown + "\n", "] created " + shown + "\n");
    assertThat(status.code()).as(status.toString()).isEqualTo(2);
    assertThat(status.out()).contains("  " + shown + "\n");
    assertThat(plan.out()).contains(shown);
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().startsWith("gitops: bad\\u001b[31m.yaml:1@");
    for (GitopsJar.Result r : List.of(sync, status, plan, refused)) {
      assertThat(r.out() + r.err()).as(r.toString()).doesNotContain("\u001b", "\u202e", "new\nline");
    }
  }
}

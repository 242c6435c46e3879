package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A source that skips the directories whose tree is unchanged since its last read gives, after any
 * sequence of commits, exactly what a fresh source reading the same commit gives.
 */
class GitSourceTreeDiffTest {

  private static final String[] DIRS = {"a", "a/x", "b", "c/d/e"};
  private static final String[] NAMES = {"one", "two", "three"};

  /** One edit of the working tree; each try commits a sequence of them, one commit per step. */
  record Step(int kind, int dir, int name, int value) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    return Arbitraries.integers().between(0, 8).flatMap(kind -> Arbitraries.integers().between(0, DIRS.length - 1)
        .flatMap(dir -> Arbitraries.integers().between(0, NAMES.length - 1)
            .flatMap(name -> Arbitraries.integers().between(0, 3).map(v -> new Step(kind, dir, name, v)))))
        .list().ofMinSize(1).ofMaxSize(6);
  }

  @Property(tries = 25)
  void aWarmSourceReadsEveryCommitAsAFreshSourceDoes(@ForAll("steps") List<Step> steps) throws IOException {
    Path tmp = Files.createTempDirectory("tree-diff-");
    try {
      TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
      for (String dir : DIRS) {
        for (String name : NAMES) {
          repo.write(dir + "/" + name + ".yaml", manifest(dir, name, 0));
        }
      }
      repo.write("a/x/p1.part", "P1").write("b/p2.part", "P2").write("README.md", "read me");
      repo.commit("init");
      List<Decoder> decoders = List.of(YamlManifestDecoder.builder().defaultProvider("memory").build(),
          new GitSourceTest.TogetherDecoder());
      Source.ReadRequest request = new Source.ReadRequest(null, decoders, new Cancellation());
      try (GitSource warm = source(repo, tmp.resolve("warm"))) {
        warm.read(request);
        int i = 0;
        for (Step s : steps) {
          apply(repo, s);
          repo.commit("step " + i);
          State read;
          GitOpsException warmError = null;
          try {
            read = warm.read(request);
          } catch (GitOpsException e) {
            // a step can make the commit invalid (a document moved away, then written again at its
            // old path, is declared twice): the warm source must refuse it exactly as a fresh one does
            read = null;
            warmError = e;
          }
          try (GitSource fresh = source(repo, tmp.resolve("fresh" + i++))) {
            if (warmError != null) {
              assertThatThrownBy(() -> fresh.read(request)).as("after %s", s)
                  .isInstanceOf(warmError.getClass()).hasMessage(warmError.getMessage());
              continue;
            }
            State expected = fresh.read(request);
            assertThat(read.revision()).isEqualTo(expected.revision());
            assertThat(read.resources()).as("after %s", s).isEqualTo(expected.resources());
            assertThat(List.copyOf(read.resources().values())).usingRecursiveFieldByFieldElementComparator()
                .isEqualTo(List.copyOf(expected.resources().values()));
            assertThat(warm.unclaimed()).isEqualTo(fresh.unclaimed());
            assertThat(fresh.reusedDirectories()).isZero();
          }
        }
      }
    } finally {
      delete(tmp);
    }
  }

  @Example
  void aCommitThatEditsOneFileWalksOnlyTheDirectoriesOnItsPath() throws IOException {
    Path tmp = Files.createTempDirectory("tree-diff-");
    try {
      TestGitRepo repo = TestGitRepo.init(tmp.resolve("repo"));
      for (String dir : DIRS) {
        repo.write(dir + "/one.yaml", manifest(dir, "one", 0));
      }
      repo.commit("init");
      Source.ReadRequest request = new Source.ReadRequest(null,
          List.of(YamlManifestDecoder.builder().defaultProvider("memory").build()), new Cancellation());
      try (GitSource source = source(repo, tmp.resolve("cache"))) {
        source.read(request);
        assertThat(source.reusedDirectories()).isZero();
        repo.write("b/one.yaml", manifest("b", "one", 1)).commit("edit b");
        State read = source.read(request);
        // the root and b/ are walked; a/ (with a/x/) and c/ (with c/d/e/) are taken whole
        assertThat(source.reusedDirectories()).isEqualTo(2);
        assertThat(read.resources()).hasSize(DIRS.length);
        assertThat(source.decodeCount()).isEqualTo(DIRS.length + 1);
      }
    } finally {
      delete(tmp);
    }
  }

  private static void delete(Path tmp) throws IOException {
    try (Stream<Path> paths = Files.walk(tmp)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static GitSource source(TestGitRepo repo, Path cache) {
    return GitSource.builder().url(repo.dir().toString()).ref("main").cacheDir(cache).build();
  }

  private static String manifest(String dir, String name, int value) {
    return "provider: memory\ntype: widget\nname: " + dir.replace('/', '-') + "-" + name + "\nspec: {v: " + value + "}\n";
  }

  /** Edits, adds, deletes, renames, removes a directory, changes an ignore file, an unclaimed or a together file. */
  private static void apply(TestGitRepo repo, Step s) throws IOException {
    String dir = DIRS[s.dir()];
    String name = NAMES[s.name()];
    Path root = repo.dir();
    switch (s.kind()) {
      case 0 -> repo.write(dir + "/" + name + ".yaml", manifest(dir, name, s.value() + 1));
      case 1 -> repo.write(dir + "/new" + s.value() + "/" + name + ".yaml", manifest(dir + "/new" + s.value(), name, 0));
      case 2 -> Files.deleteIfExists(root.resolve(dir + "/" + name + ".yaml"));
      case 3 -> {
        Path from = root.resolve(dir + "/" + name + ".yaml");
        if (Files.exists(from)) {
          // renamed into another directory: the same document at another path
          String to = DIRS[(s.dir() + 1) % DIRS.length] + "/moved-" + name + s.value() + ".yaml";
          Files.createDirectories(root.resolve(to).getParent());
          Files.move(from, root.resolve(to));
        }
      }
      case 4 -> {
        Path d = root.resolve(dir);
        if (Files.exists(d)) {
          try (Stream<Path> paths = Files.walk(d)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
      }
      case 5 -> repo.write((s.value() % 2 == 0 ? "" : dir + "/") + TreeDecoder.IGNORE_FILE,
          s.value() < 2 ? name + ".yaml\n" : "x/\n");
      case 6 -> Files.deleteIfExists(root.resolve((s.value() % 2 == 0 ? "" : dir + "/") + TreeDecoder.IGNORE_FILE));
      case 7 -> repo.write(dir + "/notes" + s.value() + ".txt", "unclaimed " + s.value());
      default -> repo.write(dir + "/q" + s.value() + ".part", "Q" + s.value());
    }
  }
}

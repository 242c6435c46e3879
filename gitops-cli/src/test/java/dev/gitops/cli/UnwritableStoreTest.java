package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state store that cannot be written is refused before anything is applied: found only when the
 * sync records what it applied, the target was changed and the store could not say so. An edited
 * reviewed plan is refused as such before the store is opened at all. A path is
 * made unwritable by its mode ({@code chmod a-w}) when the tests do not run as root, and as root,
 * whom the mode does not stop, by {@code chattr +i} (the immutable attribute); where neither stops
 * a write the test is skipped.
 */
class UnwritableStoreTest {

  @TempDir
  Path tmp;

  private FixtureRepo repo;
  private Path target;
  private Path state;
  private final List<Path> locked = new ArrayList<>();

  @BeforeEach
  void firstSync() throws Exception {
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("a.txt", "a\n").write("b.txt", "b\n").commit("initial");
    target = tmp.resolve("target");
    state = tmp.resolve("state");
    CliRun first = sync();
    assertThat(first.code()).as("%s", first).isZero();
    repo.write("a.txt", "a2\n").write("c.txt", "c\n").commit("change a, add c");
  }

  @AfterEach
  void unlock() throws Exception {
    for (Path p : locked) {
      if (isRoot()) {
        new ProcessBuilder("chattr", "-i", p.toString()).inheritIO().start().waitFor();
      } else {
        String mode = Files.isDirectory(p) ? "rwx------" : "rw-------";
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
      }
    }
  }

  private CliRun sync() {
    return gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--state", state.toString());
  }

  @Test
  void aStoreDirectoryThatCannotBeWrittenIsRefusedNamingItBeforeTheTargetIsChanged() throws Exception {
    lockAgainstWrites(state);
    CliRun refused = sync();
    assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
    assertThat(refused.err()).as("%s", refused)
        .startsWith("gitops: store " + state + " cannot be written: " + state + ": ")
        .containsAnyOf("permission denied", "Operation not permitted").contains("(--state)")
        .contains("nothing was applied or recorded");
    assertThat(refused.out()).doesNotContain("updated").doesNotContain("created");
    assertThat(target.resolve("a.txt")).hasContent("a");
    assertThat(target.resolve("c.txt")).doesNotExist();
  }

  @Test
  void aJournalOrHistoryThatCannotBeWrittenIsRefusedNamingItAndNothingIsApplied() throws Exception {
    for (Path part : List.of(state.resolve("journal"), state.resolve("history"))) {
      lockAgainstWrites(part);
      CliRun refused = sync();
      assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
      assertThat(refused.err()).as("%s", refused)
          .startsWith("gitops: store " + state + " cannot be written: " + part + ": ")
          .contains("nothing was applied or recorded");
      assertThat(refused.out()).as("%s", refused).doesNotContain("FAILED");
      assertThat(target.resolve("a.txt")).hasContent("a");
      assertThat(target.resolve("c.txt")).doesNotExist();
      unlock();
      locked.clear();
    }
    CliRun writable = sync();
    assertThat(writable.code()).as("once writable again: %s", writable).isZero();
    assertThat(target.resolve("c.txt")).hasContent("c");
  }

  @Test
  void anEditedPlanIsRefusedAsEditedNamingTheFirstDifferenceBeforeTheStoreIsTouched() throws Exception {
    Path planFile = tmp.resolve("plan.json");
    CliRun plan = gitops("plan", "--repo", repo.dir().toString(), "--target", target.toString(), "--state",
        state.toString(), "--out", planFile.toString());
    assertThat(plan.code()).as("%s", plan).isZero();
    // the attack: the creation of c.txt hidden from the reviewer, the id kept
    ObjectNode root = (ObjectNode) JsonMapper.builder().build().readTree(planFile.toFile());
    ArrayNode kept = root.arrayNode();
    root.get("changes").forEach(c -> {
      if (!c.get("action").asText().equals("CREATE")) {
        kept.add(c);
      }
    });
    assertThat(kept.size()).isLessThan(root.get("changes").size());
    root.set("changes", kept);
    Path edited = Files.writeString(tmp.resolve("edited.json"), root.toPrettyString());

    // a store that cannot even be written: the edit is what is said, checked before the store is opened
    lockAgainstWrites(state);
    CliRun refused = gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--state",
        state.toString(), "--plan", edited.toString());
    assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
    assertThat(refused.err()).as("%s", refused).startsWith("gitops: --plan " + edited + ": plan ")
        .contains("changed after it was computed").contains("files:file::c.txt").doesNotContain("cannot be written");
    assertThat(target.resolve("a.txt")).hasContent("a");
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Makes {@code p} refuse writes, or skips the test where nothing available does. */
  private void lockAgainstWrites(Path p) throws Exception {
    assertThat(p).exists();
    locked.add(p);
    if (isRoot()) {
      int code;
      try {
        code = new ProcessBuilder("chattr", "+i", p.toString()).redirectErrorStream(true).start().waitFor();
      } catch (IOException e) {
        code = -1;  // no chattr: checked below
      }
      if (code != 0) {
        locked.remove(p);
      }
    } else {
      String mode = Files.isDirectory(p) ? "r-x------" : "r--------";
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }
    Assumptions.assumeFalse(writable(p), () -> "nothing here makes " + p + " refuse writes (root without chattr +i)");
  }

  private static boolean writable(Path p) {
    try {
      if (Files.isDirectory(p)) {
        Files.delete(Files.createFile(p.resolve("probe")));
      } else {
        FileChannel.open(p, StandardOpenOption.WRITE).close();
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}

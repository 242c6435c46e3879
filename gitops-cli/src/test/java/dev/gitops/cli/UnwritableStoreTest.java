package dev.gitops.cli;

import dev.gitops.core.WriteLocks;
import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
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
  private final WriteLocks locks = new WriteLocks();

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
    locks.close();
  }

  private CliRun sync() {
    return gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--state", state.toString());
  }

  @Test
  void aStoreDirectoryThatCannotBeWrittenIsRefusedNamingItBeforeTheTargetIsChanged() throws Exception {
    locks.lock(state);
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
      locks.lock(part);
      CliRun refused = sync();
      assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
      assertThat(refused.err()).as("%s", refused)
          .startsWith("gitops: store " + state + " cannot be written: " + part + ": ")
          .contains("nothing was applied or recorded");
      assertThat(refused.out()).as("%s", refused).doesNotContain("FAILED");
      assertThat(target.resolve("a.txt")).hasContent("a");
      assertThat(target.resolve("c.txt")).doesNotExist();
      locks.close();
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
    locks.lock(state);
    CliRun refused = gitops("sync", "--repo", repo.dir().toString(), "--target", target.toString(), "--state",
        state.toString(), "--plan", edited.toString());
    assertThat(refused.code()).as("%s", refused).isEqualTo(ExitCodes.ERROR);
    assertThat(refused.err()).as("%s", refused).startsWith("gitops: --plan " + edited + ": plan ")
        .contains("changed after it was computed").contains("files:file::c.txt").doesNotContain("cannot be written");
    assertThat(target.resolve("a.txt")).hasContent("a");
  }
}

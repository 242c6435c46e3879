package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reviewed plan file runs exactly what the reviewer saw, through the real jar. */
class ReviewedPlanCliIT {

  @TempDir
  Path tmp;

  private Path target;
  private FixtureRepo repo;

  @BeforeEach
  void fixture() throws Exception {
    target = tmp.resolve("target");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("keep.txt", "keep\n").write("old.txt", "old\n").write("app.conf", "port=1\n").commit("initial");
  }

  private GitopsJar.Result gitops(String command, String... more) throws Exception {
    List<String> a = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--ref", "main", "--target",
        target.toString()));
    a.addAll(List.of(more));
    return GitopsJar.run(tmp, a.toArray(String[]::new));
  }

  @Test
  void aPlanFileWithItsDeleteRemovedIsRefusedAndTheFileStays() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("old.txt").write("app.conf", "port=2\n").commit("drop old.txt, new port");
    Path planFile = tmp.resolve("plan.json");
    assertThat(gitops("plan", "--out", planFile.toString()).code()).isZero();

    // The attack: hide the deletion from the reviewer, keep the id.
    ObjectNode root = (ObjectNode) JsonMapper.builder().build().readTree(planFile.toFile());
    ArrayNode kept = root.arrayNode();
    for (JsonNode c : root.get("changes")) {
      if (!c.get("action").asText().equals("DELETE")) {
        kept.add(c);
      }
    }
    assertThat(kept.size()).isLessThan(root.get("changes").size());
    root.set("changes", kept);
    Path edited = tmp.resolve("edited.json");
    Files.writeString(edited, root.toPrettyString());

    GitopsJar.Result refused = gitops("sync", "--plan", edited.toString());
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().contains("no longer holds")
        .contains("changed after it was computed").contains("files:file::old.txt");
    assertThat(target.resolve("old.txt")).exists();
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("port=1\n");

    GitopsJar.Result ok = gitops("sync", "--plan", planFile.toString());
    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(target.resolve("old.txt")).doesNotExist();
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("port=2\n");
  }

  @Test
  void aPlanFileRunWithOtherSafetyFlagsIsRefusedNamingThem() throws Exception {
    assertThat(gitops("sync").code()).isZero();
    repo.remove("old.txt").commit("drop old.txt");
    Path planFile = tmp.resolve("plan.json");
    assertThat(gitops("plan", "--out", planFile.toString()).code()).isZero();

    GitopsJar.Result refused = gitops("sync", "--plan", planFile.toString(), "--max-deletions", "5");
    assertThat(refused.code()).as(refused.toString()).isEqualTo(1);
    assertThat(refused.errLines()).singleElement().asString().contains("/options/maxDeletions")
        .contains("use the same --prune, --allow-empty and --max-deletions");
    assertThat(target.resolve("old.txt")).exists();
  }
}

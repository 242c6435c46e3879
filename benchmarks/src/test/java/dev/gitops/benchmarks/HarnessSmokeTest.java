package dev.gitops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.merge.Patches;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One tiny pass over the benchmark code: the contenders agree, and the harness runs end to end. No timing is asserted. */
class HarnessSmokeTest {

  @ParameterizedTest
  @EnumSource(Deployments.Edit.class)
  void everyContenderTurnsLiveIntoOurTarget(Deployments.Edit edit) throws Exception {
    DiffBench b = new DiffBench(Deployments.of(edit));
    assertThat(Patches.apply(b.input().live(), b.ours())).isEqualTo(b.target());
    assertThat(com.github.fge.jsonpatch.JsonPatch.fromJson(b.jsonPatch()).apply(b.input().live().deepCopy()))
        .isEqualTo(b.target());
    assertThat(com.flipkart.zjsonpatch.JsonPatch.apply(b.zjsonpatch(), b.input().live().deepCopy())).isEqualTo(b.target());
    assertThat(b.zjsonpatchCopy().size()).isEqualTo(b.zjsonpatch().size());
    assertThat(b.equalsFloor()).isTrue();
  }

  @Test
  void editsChangeWhatTheyNameAndLiveKeepsServerDefaults() {
    assertThat(new DiffBench(Deployments.of(Deployments.Edit.LIVE_DEFAULTS_ONLY)).ours()).isEmpty();
    DiffBench image = new DiffBench(Deployments.of(Deployments.Edit.IMAGE_BUMP));
    assertThat(image.ours()).singleElement().satisfies(op -> assertThat(op.path()).isEqualTo("/spec/template/spec/containers/0/image"));
    assertThat(image.target().at("/spec/template/spec/containers/0/imagePullPolicy").asText()).isEqualTo("IfNotPresent");
    assertThat(image.desiredBytes()).isBetween(2_000, 4_000);
  }

  @Test
  void scaleHarnessSyncsASmallRepositoryAndReportsEveryFigure(@TempDir Path dir) throws Exception {
    var row = new ScaleHarness(new MemProviderFactory(), dir).run(40);
    assertThat(row.get("n").asInt()).isEqualTo(40);
    assertThat(row.get("sameCommitFetches").asInt()).isZero();
    assertThat(row.get("sameCommitDecodes").asInt()).isZero();
    assertThat(row.get("oneFileDecodes").asInt()).isEqualTo(1);
    assertThat(row.get("oneFileWarmDecodes").asInt()).isEqualTo(3);   // three fresh commits, one file each
    assertThat(row.get("oneFileFirstResyncMs").asDouble()).isPositive();
    // the steady-state figure: every round a fresh commit of one file, decoded alone
    assertThat(row.get("oneFileSteadyDecodes").asInt()).isEqualTo(row.get("oneFileSteadyRounds").asInt());
    assertThat(row.get("oneFileSteadyResyncMs").asDouble()).isPositive();
    assertThat(row.get("readJgitMs").asDouble()).isPositive();
    assertThat(row.get("yamlBytesPerResource").asInt()).isBetween(800, 1_400);
  }
}

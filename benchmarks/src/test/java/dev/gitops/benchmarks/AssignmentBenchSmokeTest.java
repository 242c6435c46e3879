package dev.gitops.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** C1 at tiny sizes: the bench runs end to end, its shortcuts agree with full recomputations, and moves stay near 1/M. */
class AssignmentBenchSmokeTest {

  @Test
  void aJoinMovesAboutOneMthOfTheTargetsAndALeaveOnlyTheLeaversOnes() {
    ObjectNode row = AssignmentBench.row(AssignmentBench.names("target-", 3_000), 10, 3, true);

    // the join and leave shortcuts were checked against full recomputations (row() throws otherwise)
    assertThat(row.get("verified").asBoolean()).isTrue();
    // ideal 3,000 / 11 ≈ 273 per join: a hash that reshuffled (modulo M) would move ~10/11 of everything
    assertThat(row.get("joinIdeal").asDouble()).isEqualTo(272.73);
    assertThat(row.get("joinMovedMax").asInt()).isBetween(190, 355);
    assertThat(row.get("joinMovedMean").asDouble()).isPositive();
    // a leave moves exactly the leaver's targets
    assertThat(row.get("leaveMostLoadedMoved").asInt()).isEqualTo(row.get("maxPerMember").asInt());
    assertThat(row.get("leaveMedianMoved").asInt()).isBetween(row.get("minPerMember").asInt(), row.get("maxPerMember").asInt());
    // 300 targets per member on average: a fair hash keeps the busiest within 30% of the mean
    assertThat(row.get("maxOverMean").asDouble()).isBetween(1.0, 1.3);
    assertThat(row.get("minOverMean").asDouble()).isBetween(0.7, 1.0);
  }

  @Test
  void theEtcdFiguresFollowTheDefaults() {
    ObjectNode row = AssignmentBench.row(AssignmentBench.names("t", 900), 30, 1, false);

    // 10 s lease renewed every 3,333 ms; rounds read watched views: no range read, a progress request per silent
    // watch (two per member) every 5 s; one store txn per target per 3 min
    assertThat(row.get("keepAlivesPerSecond").asDouble()).isEqualTo(9.0);
    assertThat(row.get("roundRangeRequestsPerSecond").asDouble()).isZero();
    assertThat(row.get("roundKeysReadPerSecond").asDouble()).isZero();
    assertThat(row.get("watchProgressRequestsPerSecond").asDouble()).isEqualTo(12.0);
    assertThat(row.get("startRangeKeys").asLong()).isEqualTo(30 * 930);
    assertThat(row.get("storeWritesPerSecondNoChange").asDouble()).isEqualTo(5.0);
    assertThat(row.get("coldStartWrites").asLong()).isEqualTo(960);
    assertThat(row.get("gracefulLeaveWrites").asInt()).isEqualTo(1 + row.get("leaveMedianMoved").asInt());
    assertThat(row.get("steadyEtcdClass").asText()).isEqualTo("small");
  }

  @Test
  void mainWritesEveryRowAndTheCitedGuidance(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("assignment.json");
    AssignmentBench.main(new String[] {"--targets", "400", "--members", "3,5", "--joiners", "2", "--out", out.toString()});

    JsonNode result = new ObjectMapper().readTree(out.toFile());
    assertThat(result.get("targets").asInt()).isEqualTo(400);
    assertThat(result.get("rows")).hasSize(2);
    assertThat(result.at("/rows/1/members").asInt()).isEqualTo(5);
    assertThat(result.at("/rows/1/verified").asBoolean()).isTrue();
    assertThat(result.at("/rows/1/assignCpuMs").isNumber()).isTrue();
    assertThat(result.at("/etcdGuidance/hardware").asText()).startsWith("https://etcd.io/docs/");
  }

  @Test
  void aBadFlagIsNamed() {
    assertThatThrownBy(() -> AssignmentBench.main(new String[] {"--members", "10,x"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--members").hasMessageContaining("'x'");
    assertThatThrownBy(() -> AssignmentBench.main(new String[] {"--targets"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--targets needs a value");
  }
}

package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.agent.SigningKey;
import dev.gitops.core.plan.PlanCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plan made with {@code --verify-key-ring} records how its commit was verified, under its id, and
 * {@code sync --plan} verifies it so with or without the flags: never applied unverified.
 */
class ReviewedPlanVerificationTest {

  static SigningKey trusted;
  static SigningKey other;

  @TempDir
  Path tmp;

  Path ring;
  Path target;
  Path plan;
  FixtureRepo repo;

  @BeforeAll
  static void keys() {
    trusted = SigningKey.generate("Release <release@example.com>");
    other = SigningKey.generate("Someone <someone@example.com>");
  }

  @BeforeEach
  void fixture() throws Exception {
    ring = trusted.writeArmoredRing(tmp.resolve("trusted.asc"));
    target = tmp.resolve("target");
    plan = tmp.resolve("plan.json");
    repo = FixtureRepo.init(tmp.resolve("repo"));
    repo.write("app.properties", "name=shop\n").commit("the app's settings");
    trusted.signHead(repo.dir());
  }

  CliRun run(String command, String... flags) {
    List<String> args = new ArrayList<>(List.of(command, "--repo", repo.dir().toString(), "--target", target.toString()));
    args.addAll(List.of(flags));
    return gitops(args.toArray(String[]::new));
  }

  private void planVerified() {
    CliRun planned = run("plan", "--verify-key-ring", ring.toString(), "--out", plan.toString());
    assertThat(planned.code()).as("%s", planned).isZero();
  }

  @Test
  void aPlanMadeWithVerificationRecordsItAndIsVerifiedWithoutTheFlags() throws Exception {
    planVerified();
    JsonNode options = new ObjectMapper().readTree(plan.toFile()).get("options");
    assertThat(options.get("setting.verifyMode").asText()).isEqualTo("head");
    assertThat(options.get("setting.verifyKeyRing").asText()).isEqualTo(ring.toAbsolutePath().normalize().toString());
    assertThat(options.get("setting.verifyKeyRingSha256").asText()).isEqualTo(TargetOptions.sha256(ring));

    // the trusted key dropped from the ring since the plan: refused without the flags, nothing written
    other.writeArmoredRing(ring);
    CliRun replaced = run("sync", "--plan", plan.toString());
    assertThat(replaced.code()).as("%s", replaced).isEqualTo(ExitCodes.ERROR);
    assertThat(replaced.err().lines().toList()).singleElement().asString()
        .startsWith("gitops: --plan " + plan + ": the reviewed plan " + plan)
        .contains("setting.verifyKeyRing " + ring, "now has SHA-256 ", "pass --verify-key-ring " + ring);
    Files.delete(ring);
    CliRun gone = run("sync", "--plan", plan.toString());
    assertThat(gone.code()).as("%s", gone).isEqualTo(ExitCodes.ERROR);
    assertThat(gone.err()).contains("setting.verifyKeyRing " + ring, "is no longer a file", "--verify-key-ring FILE");
    assertThat(target.resolve("app.properties")).doesNotExist();

    trusted.writeArmoredRing(ring);
    CliRun same = run("sync", "--plan", plan.toString());
    assertThat(same.code()).as("the recorded ring as it was: %s", same).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop\n");
  }

  @Test
  void aPlanEditedToAnotherCommitIsVerifiedAsItRecords() throws Exception {
    planVerified();
    // the attack: a plan computed at an unsigned commit, given the reviewed plan's record, its id recomputed
    repo.write("app.properties", "name=evil\n").commit("unsigned");
    Path unsigned = tmp.resolve("unsigned.json");
    assertThat(run("plan", "--out", unsigned.toString()).code()).isZero();
    ObjectMapper json = new ObjectMapper();
    ObjectNode forged = (ObjectNode) json.readTree(unsigned.toFile());
    ((ObjectNode) forged.get("options")).setAll((ObjectNode) json.readTree(plan.toFile()).get("options"));
    forged.put("id", PlanCodec.id(PlanCodec.fromJson(forged.toString()), new byte[32]));
    Files.writeString(unsigned, forged.toPrettyString());

    CliRun r = run("sync", "--plan", unsigned.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("refused: the commit is not signed").contains(ring.toString());
    assertThat(target.resolve("app.properties")).doesNotExist();
  }

  @Test
  void aPlanWhoseRecordIsStrippedNoLongerMatchesItsId() throws Exception {
    planVerified();
    ObjectNode root = (ObjectNode) new ObjectMapper().readTree(plan.toFile());
    ObjectNode options = (ObjectNode) root.get("options");
    for (String name : List.of("setting.verifyMode", "setting.verifyKeyRing", "setting.verifyKeyRingSha256")) {
      assertThat(options.remove(name)).as(name).isNotNull();
    }
    Files.writeString(plan, root.toPrettyString());

    CliRun r = run("sync", "--plan", plan.toString());
    assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
    assertThat(r.err()).contains("--plan " + plan).contains("it was changed after it was computed");
    assertThat(target.resolve("app.properties")).doesNotExist();
  }

  @Test
  void aPlanWithoutTheRecordAppliesAsBeforeAndTheFlagsStillVerifyIt() throws Exception {
    // as a plan file written before plans recorded verification, or without --verify-key-ring
    assertThat(run("plan", "--out", plan.toString()).code()).isZero();
    assertThat(Files.readString(plan)).doesNotContain("setting.verify");
    CliRun otherRing = run("sync", "--plan", plan.toString(), "--verify-key-ring",
        other.writeArmoredRing(tmp.resolve("other.asc")).toString());
    assertThat(otherRing.code()).as("%s", otherRing).isEqualTo(ExitCodes.ERROR);
    assertThat(otherRing.err()).contains("refused").contains(tmp.resolve("other.asc").toString());
    CliRun verified = run("sync", "--plan", plan.toString(), "--verify-key-ring", ring.toString());
    assertThat(verified.code()).as("%s", verified).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop\n");
  }

  @Test
  void anExplicitKeyRingIsUsedInsteadOfTheRecordedOne() throws Exception {
    planVerified();
    other.writeArmoredRing(ring);
    CliRun untrusted = run("sync", "--plan", plan.toString(), "--verify-key-ring", ring.toString());
    assertThat(untrusted.code()).as("the ring given is the one used: %s", untrusted).isEqualTo(ExitCodes.ERROR);
    assertThat(untrusted.err()).contains("refused").contains(ring.toString());
    // a rotated ring: other bytes, the signer's key still in it
    Path rotated = tmp.resolve("rotated.asc");
    Files.writeString(rotated, Files.readString(trusted.writeArmoredRing(tmp.resolve("copy.asc"))) + "\n");
    CliRun r = run("sync", "--plan", plan.toString(), "--verify-key-ring", rotated.toString());
    assertThat(r.code()).as("%s", r).isZero();
    assertThat(target.resolve("app.properties")).hasContent("name=shop\n");
  }
}

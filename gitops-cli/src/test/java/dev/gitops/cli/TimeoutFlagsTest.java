package dev.gitops.cli;

import static dev.gitops.cli.CliRun.gitops;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.source.SilentServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --call-timeout}, {@code --sync-timeout} and {@code --git-timeout} of plan, sync, diff and
 * rollback: what they set, and bad values refused naming the flag.
 */
class TimeoutFlagsTest {

  private static SyncOptions sync(String... args) {
    SyncCommand c = new SyncCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  private static SyncOptions plan(String... args) {
    PlanCommand c = new PlanCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  private static SyncOptions diff(String... args) {
    DiffCommand c = new DiffCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  private static SyncOptions rollback(String... args) {
    RollbackCommand c = new RollbackCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  @Test
  void diffAndRollbackTakeTheSameTimeoutFlagsAsPlanAndSyncWithTheSameDefaults() {
    for (SyncOptions o : List.of(diff("--repo", "r", "--call-timeout", "5m", "--sync-timeout", "45m"),
        rollback("abc123", "--repo", "r", "--call-timeout", "PT5M", "--sync-timeout", "45m"))) {
      assertThat(o.execution().callTimeout()).isEqualTo(Duration.ofMinutes(5));
      assertThat(o.execution().syncTimeout()).isEqualTo(Duration.ofMinutes(45));
    }
    assertThat(rollback("abc123", "--repo", "r", "--no-prune", "--call-timeout", "30s").prune())
        .as("the safety flags kept").isFalse();
    assertThat(diff("--repo", "r").execution()).isEqualTo(plan("--repo", "r").execution())
        .isEqualTo(ExecutionOptions.defaults());
    assertThat(rollback("abc123", "--repo", "r").execution()).isEqualTo(sync("--repo", "r").execution())
        .isEqualTo(ExecutionOptions.defaults());
    // the same option class: the same flags, with the same labels and descriptions, in every command's help
    CommandLine.Model.CommandSpec plan = new CommandLine(new PlanCommand()).getCommandSpec();
    for (Object command : List.of(new DiffCommand(), new RollbackCommand(), new SyncCommand())) {
      for (String flag : List.of("--call-timeout", "--sync-timeout")) {
        CommandLine.Model.OptionSpec o = new CommandLine(command).getCommandSpec().findOption(flag);
        assertThat(o).as("%s %s", command.getClass().getSimpleName(), flag).isNotNull();
        assertThat(o.paramLabel()).isEqualTo(plan.findOption(flag).paramLabel());
        assertThat(o.description()).isEqualTo(plan.findOption(flag).description());
      }
    }
  }

  @Test
  void theFlagsSetTheEnginesCallAndSyncTimeouts() {
    for (SyncOptions o : List.of(sync("--repo", "r", "--call-timeout", "5m", "--sync-timeout", "45m", "--dry-run"),
        plan("--repo", "r", "--call-timeout", "5m", "--sync-timeout", "PT45M"))) {
      assertThat(o.execution().callTimeout()).isEqualTo(Duration.ofMinutes(5));
      assertThat(o.execution().syncTimeout()).isEqualTo(Duration.ofMinutes(45));
    }
    assertThat(sync("--repo", "r", "--call-timeout", "30s", "--dry-run").dryRun()).as("other flags kept").isTrue();
    assertThat(sync("--repo", "r", "--call-timeout", "1500ms").execution().callTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(sync("--repo", "r", "--sync-timeout", "1h").execution())
        .isEqualTo(ExecutionOptions.defaults().withSyncTimeout(Duration.ofHours(1)));
    assertThat(sync("--repo", "r").execution()).as("without the flags, the engine's defaults")
        .isEqualTo(ExecutionOptions.defaults());
    assertThat(plan("--repo", "r").execution()).isEqualTo(ExecutionOptions.defaults());
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void theGitTimeoutEndsAReadFromAServerThatNeverAnswers(@TempDir Path tmp) throws Exception {
    try (SilentServer silent = SilentServer.start()) {
      String url = "git://127.0.0.1:" + silent.port() + "/repo";
      long start = System.nanoTime();
      CliRun r = gitops("sync", "--repo", url, "--target", tmp.resolve("t").toString(), "--git-timeout", "1s");
      assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
      assertThat(r.err()).contains(url).contains("timed out after 1,000 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not the default 60 s").isLessThan(Duration.ofSeconds(30));
    }
  }

  @Test
  void aBadDurationIsOneLineNamingTheFlagAndExitsOne() {
    for (String flag : List.of("--call-timeout", "--sync-timeout", "--git-timeout")) {
      for (List<String> command : List.of(List.of("sync"), List.of("plan"), List.of("diff"), List.of("rollback", "abc"))) {
        for (String bad : List.of("0s", "-5s", "abc", "", " ", "5", "1.5m", "PT0S", "PT-1S", "5 minutes",
            "99999999999999999999s")) {
          CliRun r = gitops(args(command, "--repo", "unused", "--target", "unused", flag, bad));
          assertThat(r.code()).as("%s %s '%s': %s", command, flag, bad, r).isEqualTo(ExitCodes.ERROR);
          assertThat(r.err().lines().toList()).as("%s %s '%s'", command, flag, bad).singleElement().asString()
              .startsWith("gitops: ").contains(flag).contains("positive duration");
        }
        for (String tooShort : List.of("1ms", "999ms", "PT0.5S")) {
          // as the agent's timeouts: 1ms (a slip for 1m) would fail every call or read it bounds
          CliRun r = gitops(args(command, "--repo", "unused", "--target", "unused", flag, tooShort));
          assertThat(r.code()).as("%s %s '%s': %s", command, flag, tooShort, r).isEqualTo(ExitCodes.ERROR);
          assertThat(r.err().lines().toList()).as("%s %s '%s'", command, flag, tooShort).singleElement().asString()
              .startsWith("gitops: ").contains(flag).contains("'" + tooShort + "' is shorter than 1s");
        }
        CliRun missing = gitops(args(command, "--repo", "unused", "--target", "unused", flag));
        assertThat(missing.code()).isEqualTo(ExitCodes.ERROR);
        assertThat(missing.err()).contains(flag);
      }
    }
  }

  private static String[] args(List<String> command, String... more) {
    List<String> all = new java.util.ArrayList<>(command);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }
}

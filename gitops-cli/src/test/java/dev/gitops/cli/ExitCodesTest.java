package dev.gitops.cli;

import static dev.gitops.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.GitOpsException;
import dev.gitops.api.PlanMismatchException;
import dev.gitops.api.PlanRefusedException;
import dev.gitops.api.PlanRefusedException.Limit;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class ExitCodesTest {

  /** A command that fails the way it is told to. */
  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @CommandLine.Option(names = "--kind")
    String kind = "refused";

    @Override
    public Integer call() {
      throw switch (kind) {
        case "refused" -> new PlanRefusedException("mass-deletion guard", "files", "the plan deletes all 3 resources");
        case "wrapped" -> new GitOpsException("sync failed", new PlanRefusedException("g", null, "no"));
        case "mismatch" -> new PlanMismatchException("aaa", "bbb", List.of(), "the source now reads main@sha1:x");
        case "everything" -> new PlanRefusedException("mass-deletion guard", "files", Limit.EVERYTHING, 3, 3, -1);
        case "count" -> new PlanRefusedException("mass-deletion guard", "files", Limit.MAX_COUNT, 2, 5, 1);
        case "percent" -> new PlanRefusedException("mass-deletion guard", "files", Limit.MAX_PERCENT, 3, 8, 25);
        case "options" -> new PlanMismatchException("aaa", "bbb", List.of(), "it was changed", null,
            "/options/allowEmpty", "reviewed: false, now: true");
        default -> new IllegalStateException("line one\n  line two");
      };
    }
  }

  /** A command whose heap runs out, directly or inside a library's exception. */
  @Command(name = "starved")
  static final class Starved implements Callable<Integer> {
    @CommandLine.Option(names = "--wrapped")
    boolean wrapped;

    @Override
    public Integer call() {
      OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
      if (wrapped) {
        throw new GitOpsException("reading the state store failed", oom);
      }
      throw oom;
    }
  }

  /** Parses the safety flags. */
  @Command(name = "flags")
  static final class Flags implements Callable<Integer> {
    @Mixin
    SafetyOptions safety;

    @Override
    public Integer call() {
      return 0;
    }
  }

  @Test
  void refusalsMapToThreeAndEverythingElseToOne() {
    assertThat(ExitCodes.forException(new PlanRefusedException("g", "p", "m"))).isEqualTo(ExitCodes.REFUSED);
    assertThat(ExitCodes.forException(new GitOpsException("x", new PlanRefusedException("g", "p", "m")))).isEqualTo(3);
    assertThat(ExitCodes.forException(new PlanMismatchException("a", "b", List.of(), "moved"))).isEqualTo(ExitCodes.ERROR);
    assertThat(ExitCodes.forException(new RuntimeException())).isEqualTo(1);
  }

  @Test
  void aRefusedCommandExitsThreeWithOneLineOnStderr() {
    CliRun r = run(new Boom(), "--kind", "refused");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err().lines().toList()).containsExactly(
        "gitops: refused by mass-deletion guard for provider 'files': the plan deletes all 3 resources");
  }

  @Test
  void aRefusalNamesTheFlagThatAllowsItAndCountsInWords() {
    PlanRefusedException.Limit all = PlanRefusedException.Limit.EVERYTHING;
    assertThat(ExitCodes.refusal(new PlanRefusedException("mass-deletion guard", "tf", all, 1, 1, -1)))
        .isEqualTo("refused by mass-deletion guard for provider 'tf': the sync would delete or replace the only"
            + " resource gitops owns (are --path and --ref right?); pass --allow-empty if that is intended (a reviewed"
            + " plan is made again with it: 'gitops plan --out' and 'gitops sync --plan' take the same flags)");
    assertThat(ExitCodes.refusal(new PlanRefusedException("mass-deletion guard", "files", all, 3, 3, -1)))
        .contains("delete or replace all 3 resources gitops owns");
  }

  @Test
  void aStalePlanExitsOneWithItsMessage() {
    CliRun r = run(new Boom(), "--kind", "mismatch");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines().toList()).hasSize(1).first().asString()
        .startsWith("gitops: plan aaa no longer holds (now bbb)");
  }

  @Test
  void multiLineMessagesAreJoinedIntoOneLine() {
    CliRun r = run(new Boom(), "--kind", "other");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("gitops: line one line two" + System.lineSeparator());
  }

  @Test
  void runningOutOfHeapIsOneLineNamingTheHeapAndTheFlagNotAStackTrace() {
    for (String[] args : List.of(new String[0], new String[] {"--wrapped"})) {
      StringWriter err = new StringWriter();
      int code = Main.execute(Main.commandLine(new Starved(), new PrintWriter(new StringWriter(), true),
          new PrintWriter(err, true)), args);
      assertThat(code).isEqualTo(ExitCodes.ERROR);
      assertThat(err.toString().lines().toList()).singleElement().asString()
          .startsWith("gitops: out of memory (Java heap space): this JVM may use at most ")
          .contains(" MB of heap; give it more, for example 'java -Xmx"
              + ExitCodes.moreHeapGb(Runtime.getRuntime().maxMemory()) + "g -jar gitops.jar ...'");
    }
  }

  @Test
  void theHeapAdvisedIsTwiceTheHeapTheJvmHasNeverTheSame() {
    assertThat(ExitCodes.moreHeapGb(2046L << 20)).as("-Xmx2g already").isEqualTo(4);
    assertThat(ExitCodes.moreHeapGb(23L << 20)).isEqualTo(2);
    assertThat(ExitCodes.moreHeapGb(8L << 30)).isEqualTo(16);
    assertThat(ExitCodes.moreHeapGb(Long.MAX_VALUE)).as("no limit known").isEqualTo(2);
  }

  @Test
  void verbosePrintsTheStackTraceAfterTheLine() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.commandLine(new GitopsCommand(), new PrintWriter(out, true), new PrintWriter(err, true))
        .execute("sync", "--verbose", "--target", "t");
    assertThat(code).isEqualTo(1);
    List<String> lines = err.toString().lines().toList();
    assertThat(lines.get(0)).isEqualTo("gitops: missing --repo: the Git repository (URL or local path) to read");
    assertThat(lines).anyMatch(l -> l.contains("at dev.gitops.cli.TargetOptions.validate"));
  }

  @Test
  void badUsageIsAnErrorNotPendingChanges() {
    CliRun r = run(new GitopsCommand(), "sync", "--no-such-flag");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().lines().toList()).hasSize(1).first().asString().startsWith("gitops: Unknown option: '--no-such-flag'");
  }

  @Test
  void missingRepoOrTargetOrAnUnknownProviderNameTheFlag() {
    CliRun noRepo = run(new GitopsCommand(), "plan", "--target", "t");
    assertThat(noRepo.code()).isEqualTo(1);
    assertThat(noRepo.err()).startsWith("gitops: missing --repo");
    CliRun noTarget = run(new GitopsCommand(), "status", "--repo", "r");
    assertThat(noTarget.err()).startsWith("gitops: missing --target");
    CliRun unknown = run(new GitopsCommand(), "diff", "--repo", "r", "--target", "t", "--provider", "nomad");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).startsWith("gitops: unknown --provider 'nomad' (this tool supports: files, ansible, k8s, terraform)");
  }

  @Test
  void aMissingPlanFileIsNamed() {
    CliRun r = run(new GitopsCommand(), "diff", "--plan", "does-not-exist.json");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("gitops: --plan does-not-exist.json: no such file");
  }

  @Test
  void noCommandPrintsUsageAndFails() {
    CliRun r = run(new GitopsCommand());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("Usage: gitops").contains("sync").contains("rollback").contains("<target>/.gitops/");
  }

  @Test
  void pruneIsOnByDefaultAndNegatable() {
    Flags f = new Flags();
    new CommandLine(f).parseArgs();
    assertThat(f.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).prune()).isTrue();
    new CommandLine(f = new Flags()).parseArgs("--no-prune");
    assertThat(f.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).prune()).isFalse();
    new CommandLine(f = new Flags()).parseArgs("--prune");
    assertThat(f.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).prune()).isTrue();
  }

  @Test
  void deletionFlagsShapeTheBudget() {
    Flags f = new Flags();
    new CommandLine(f).parseArgs("--allow-empty", "--max-deletions", "5");
    var budget = f.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).budget();
    assertThat(budget.allowEmpty()).isTrue();
    assertThat(budget.maxCount()).isEqualTo(5);
    Flags g = new Flags();
    new CommandLine(g).parseArgs();
    assertThat(g.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).budget())
        .isEqualTo(dev.gitops.core.plan.DeletionBudget.defaults());
  }

  @Test
  void theLibrarysRefusalsAreWordedWithTheFlagsThatAllowThem() {
    CliRun everything = run(new Boom(), "--kind", "everything");
    assertThat(everything.code()).isEqualTo(3);
    assertThat(everything.err().lines().toList()).singleElement().asString()
        .startsWith("gitops: refused by mass-deletion guard for provider 'files': ")
        .contains("all 3 resources").contains("--allow-empty");
    assertThat(run(new Boom(), "--kind", "count").err().lines().toList()).singleElement().asString()
        .contains("2 of the 5").contains("--max-deletions 1");
    assertThat(run(new Boom(), "--kind", "percent").err().lines().toList()).singleElement().asString()
        .contains("3 of the 8").contains("(37%)").contains("--max-deletions 25%");
    assertThat(run(new Boom(), "--kind", "options").err().lines().toList()).singleElement().asString()
        .contains("/options/allowEmpty").contains("use the same --prune, --adopt, --allow-empty and --max-deletions");
  }

  @Test
  void maxDeletionsIsACountOrAPercentage() {
    Flags count = new Flags();
    new CommandLine(count).parseArgs("--max-deletions", "10");
    assertThat(count.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).budget())
        .isEqualTo(dev.gitops.core.plan.DeletionBudget.defaults().withMaxCount(10));
    Flags percent = new Flags();
    new CommandLine(percent).parseArgs("--max-deletions", "25%");
    assertThat(percent.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).budget())
        .isEqualTo(dev.gitops.core.plan.DeletionBudget.defaults().withMaxPercent(25));
    Flags zero = new Flags();
    new CommandLine(zero).parseArgs("--max-deletions", "0%");
    assertThat(zero.safety.applyTo(dev.gitops.core.SyncOptions.defaults()).budget().maxPercent()).isZero();
  }

  @Test
  void aBadMaxDeletionsIsOneLineNamingTheFlagAndExitsOne() {
    for (String bad : List.of("-1", "abc", "150%", "", " ", "1.5", "10%%", "%", "99999999999", "-5%", "+3")) {
      CliRun r = run(new Flags(), "--max-deletions", bad);
      assertThat(r.code()).as("'%s'", bad).isEqualTo(1);
      assertThat(r.err().lines().toList()).as("'%s': %s", bad, r.err()).singleElement().asString()
          .startsWith("gitops: ").contains("--max-deletions");
    }
    CliRun missing = run(new Flags(), "--max-deletions");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err().lines().toList()).singleElement().asString().contains("--max-deletions");
  }

  @Test
  void aMessageIsOneLineWithControlAndFormatCharactersEscaped() {
    // an error message may quote a file name from the repository: no escape sequence reaches the terminal
    String m = ExitCodes.oneLine(new IllegalStateException("a/bad\u001b[2J.yaml:1: not valid YAML:\n  line \u202e2\r\n"));
    assertThat(m).isEqualTo("a/bad\\u001b[2J.yaml:1: not valid YAML: line \\u202e2");
  }
}

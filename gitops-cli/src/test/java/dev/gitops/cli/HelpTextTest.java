package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help renders as written: picocli formats descriptions, so a bare {@code %} breaks them. */
class HelpTextTest {

  private static List<CommandLine> allCommands(CommandLine root) {
    List<CommandLine> all = new ArrayList<>();
    all.add(root);
    for (CommandLine sub : root.getSubcommands().values()) {
      if (!all.contains(sub)) {
        all.addAll(allCommands(sub));
      }
    }
    return all;
  }

  @Test
  void everyCommandsHelpRendersWithoutAWarningAndShowsEachDescription() {
    CommandLine root = Main.commandLine(new GitopsCommand(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()));
    List<CommandLine> commands = allCommands(root);
    assertThat(commands).hasSizeGreaterThan(5);
    PrintStream realErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> usages = new ArrayList<>();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      for (CommandLine command : commands) {
        usages.add(command.getUsageMessage(CommandLine.Help.Ansi.OFF));
      }
    } finally {
      System.setErr(realErr);
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).as("picocli's warnings while rendering help").isEmpty();
    assertThat(String.join("\n", usages).replaceAll("\\s+", " ")).contains("for example 10 or 25%; default: no limit")
        // picocli interpolates ${...} in descriptions: the message template's placeholders are escaped as $${...}
        .contains("Commit message; ${count}, ${updates} and ${policies} are replaced.");
  }

  @Test
  void runsClusterHelpSaysWhereEachBackendKeepsTheTargetsState() {
    CommandLine run = Main.commandLine(new GitopsCommand(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter())).getSubcommands().get("run");
    String usage = run.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
    // ClusterPlacement.openStore: etcd keeps the stores in etcd, k8s in a Secret per target (docs/agent.md)
    assertThat(usage).contains("etcd (state in etcd too)").contains("Leases in --namespace (state in a Secret per"
        + " target there)").doesNotContain("local store");
  }

  /** A command without its subcommand ends, as 'gitops' alone does, with one error line after the usage (exit 1). */
  @Test
  void aCommandWithoutItsSubcommandEndsWithAnErrorLineNamingIt() {
    for (String[] args : List.of(new String[] {"images"}, new String[0])) {
      CliRun r = CliRun.gitops(args);
      assertThat(r.code()).as("%s", r).isEqualTo(ExitCodes.ERROR);
      List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines.get(lines.size() - 1)).as("%s", r).startsWith("gitops: ")
          .contains(args.length == 0 ? "a command is required" : "'gitops images' needs a command: update");
    }
  }

  @Test
  void theRootHelpListsEveryExitCodeTheCliUsesIncludingTheSignalOnes() {
    String usage = Main.commandLine(new GitopsCommand(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter())).getUsageMessage(CommandLine.Help.Ansi.OFF);
    String codes = usage.substring(usage.indexOf("Exit codes:")).replaceAll("\\s+", " ");
    assertThat(codes).contains("0 success").contains("1 error").contains("2 changes pending")
        .contains("3 refused by a safety guard")
        // 128 + the signal's number, as docs/cli.md's table says
        .contains("130, 143, 129 ended by SIGINT (Ctrl-C), SIGTERM or SIGHUP");
  }

  @Test
  void aCommandLineThatNamesASubcommandBuildsThatOneAloneWithTheSameHelpAndSettings() {
    assertThat(Main.subcommandNamedIn("sync", "--repo", "r")).isEqualTo("sync");
    assertThat(Main.subcommandNamedIn("-v", "history", "--target", "t")).isEqualTo("history");
    assertThat(Main.subcommandNamedIn("--verbose", "images", "update")).isEqualTo("images");
    assertThat(Main.subcommandNamedIn("synk", "--repo", "r")).as("misspelt: the usage error lists every one").isNull();
    assertThat(Main.subcommandNamedIn("--help")).isNull();
    assertThat(Main.subcommandNamedIn("--help", "sync")).as("the root's usage lists every subcommand").isNull();
    assertThat(Main.subcommandNamedIn("-V", "sync")).isNull();
    assertThat(Main.subcommandNamedIn("sync", "--help")).isEqualTo("sync");
    assertThat(Main.subcommandNamedIn()).isNull();

    CommandLine all = Main.commandLine(new GitopsCommand(), new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()));
    assertThat(all.getSubcommands().keySet()).containsExactly("plan", "sync", "diff", "status", "history",
        "rollback", "forget", "demo", "images", "run");
    for (String name : all.getSubcommands().keySet()) {
      StringWriter err = new StringWriter();
      CommandLine one = Main.commandLine(new GitopsCommand(), new PrintWriter(new StringWriter()), new PrintWriter(err),
          name);
      assertThat(one.getSubcommands().keySet()).containsExactly(name);
      CommandLine sub = one.getSubcommands().get(name);
      assertThat(sub.getUsageMessage(CommandLine.Help.Ansi.OFF))
          .isEqualTo(all.getSubcommands().get(name).getUsageMessage(CommandLine.Help.Ansi.OFF));
      // the root's settings and its inherited --verbose reach the subcommand added alone
      assertThat(sub.getErr()).isSameAs(one.getErr());
      assertThat(sub.getExitCodeExceptionMapper()).isInstanceOf(ExitCodes.Mapper.class);
      assertThat(sub.getCommandSpec().findOption("--verbose")).as(name).isNotNull();
      assertThat(one.execute(name, "--no-such-flag")).isEqualTo(all.execute(name, "--no-such-flag"));
    }
  }
}

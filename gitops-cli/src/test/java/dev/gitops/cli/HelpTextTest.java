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
    assertThat(String.join("\n", usages).replaceAll("\\s+", " ")).contains("for example 10 or 25%; default: no limit");
  }
}

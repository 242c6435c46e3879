package dev.gitops.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gitops demo}: a guided tour on a sample repository. It creates a Git repository of
 * config files and a target directory, syncs, commits a change and a removal, syncs again,
 * edits a target file by hand and shows the drift being detected and corrected. Every step runs
 * the real command, printed as you would type it.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"A guided tour on a sample repository and target directory.",
        "Creates a Git repository of config files and a target directory, then syncs, commits a change and a "
            + "removal, syncs again, edits a target file by hand and shows the drift detected and corrected, "
            + "printing each command as you would type it."})
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--dir", paramLabel = "DIR", description = "Where to put the sample repository and target (default: a new temporary directory).")
  Path dir;

  @Spec
  CommandSpec spec;

  private PrintWriter out;
  private PrintWriter err;
  private int step;

  @Override
  public Integer call() throws IOException, GitAPIException {
    out = spec.commandLine().getOut();
    err = spec.commandLine().getErr();
    Path base = dir != null ? base(dir) : Files.createTempDirectory("gitops-demo-").toAbsolutePath();
    Path repo = base.resolve("repo");
    Path target = base.resolve("target");
    for (Path p : List.of(repo, target)) {
      if (Files.exists(p) && !isEmptyDir(p)) {
        throw new IllegalArgumentException("--dir " + base + ": " + p.getFileName() + "/ already exists and is not empty;"
            + " choose another --dir (or omit it for a temporary one)");
      }
    }
    Files.createDirectories(target);
    List<String> where = List.of("--repo", repo.toString(), "--ref", "main", "--target", target.toString());

    heading("Create a Git repository of config files");
    say("The desired state lives in " + repo + ": three config files on branch main.");
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      write(repo.resolve("app.properties"), "name=shop\nport=8080\nlog.level=info\n");
      write(repo.resolve("nginx/site.conf"), "server {\n  listen 80;\n  server_name shop.example.com;\n"
          + "  location / {\n    proxy_pass http://127.0.0.1:8080;\n  }\n}\n");
      write(repo.resolve("motd.txt"), "Welcome to the shop server.\n");
      git.add().addFilepattern(".").call();
      RevCommit first = commit(git, "Initial config");
      say("Committed " + first.abbreviate(12).name() + " \"Initial config\": app.properties, nginx/site.conf, motd.txt");

      heading("Plan the first sync");
      say("The target " + target + " is empty, so everything is to be created.");
      gitops(ExitCodes.PENDING, "plan", where, "--detailed-exitcode");

      heading("Sync");
      say("gitops writes the files and records what it owns in " + target.resolve(".gitops") + ".");
      gitops(ExitCodes.OK, "sync", where);
      say("The target now holds: " + listFiles(target));

      heading("Sync again");
      say("Nothing changed, so there is nothing to do.");
      gitops(ExitCodes.OK, "sync", where);

      heading("Change the port and remove the motd in Git");
      write(repo.resolve("app.properties"), "name=shop\nport=9090\nlog.level=info\n");
      write(repo.resolve("nginx/site.conf"), "server {\n  listen 80;\n  server_name shop.example.com;\n"
          + "  location / {\n    proxy_pass http://127.0.0.1:9090;\n  }\n}\n");
      git.add().addFilepattern(".").call();
      git.rm().addFilepattern("motd.txt").call();
      RevCommit second = commit(git, "Move the app to port 9090, drop the motd");
      say("Committed " + second.abbreviate(12).name() + " \"Move the app to port 9090, drop the motd\".");
      say("The diff shows each changed line; the removed file will be deleted (pruned).");
      gitops(ExitCodes.OK, "diff", where);

      heading("Sync the change");
      gitops(ExitCodes.OK, "sync", where);
      say("The target now holds: " + listFiles(target));

      heading("Someone edits a managed file by hand");
      Path edited = target.resolve("app.properties");
      write(edited, Files.readString(edited, StandardCharsets.UTF_8).replace("log.level=info", "log.level=debug"));
      say("Changed log.level=info to log.level=debug in " + edited + " (not in Git).");
      say("status detects the drift (exit 2) and names the field:");
      gitops(ExitCodes.PENDING, "status", where);
      say("diff shows what sync will put back:");
      gitops(ExitCodes.OK, "diff", where);

      heading("Correct the drift");
      gitops(ExitCodes.OK, "sync", where);
      gitops(ExitCodes.OK, "status", where);
      say("app.properties again reads: "
          + Files.readString(edited, StandardCharsets.UTF_8).strip().replace("\n", ", "));

      heading("History");
      gitops(ExitCodes.OK, "history", List.of("--target", target.toString(), "--repo", repo.toString()));
    }
    out.println();
    out.println("Demo finished. The repository and the target are in " + base + "; try for example:");
    out.println("  " + typed(List.of("gitops", "status"), where));
    out.println("  " + typed(List.of("gitops", "plan"), where, "--out", "plan.json"));
    out.flush();
    return ExitCodes.OK;
  }

  private void heading(String title) {
    out.println();
    out.println("== Step " + (++step) + ": " + title + " ==");
    out.flush();
  }

  private void say(String line) {
    out.println(line);
    out.flush();
  }

  /** Runs a gitops command in this process, printed as typed; fails the demo on an unexpected exit code. */
  private void gitops(int expected, String command, List<String> where, String... more) {
    List<String> args = new ArrayList<>();
    args.add(command);
    args.addAll(where);
    args.addAll(List.of(more));
    out.println("$ " + typed(List.of("gitops", command), where, more));
    out.flush();
    CommandLine cl = Main.commandLine(new GitopsCommand(), out, err);
    int code = cl.execute(args.toArray(String[]::new));
    out.println("(exit " + code + ")");
    out.flush();
    if (code != expected) {
      throw new IllegalStateException("demo step " + step + " ('gitops " + command + "') exited with " + code
          + ", expected " + expected);
    }
  }

  /**
   * {@code words}, then {@code where} and {@code more}, as typed in a shell (bash, zsh): each word
   * quoted when it needs it.
   */
  private static String typed(List<String> words, List<String> where, String... more) {
    List<String> all = new ArrayList<>(words);
    all.addAll(where);
    all.addAll(List.of(more));
    return String.join(" ", all.stream().map(DemoCommand::shellWord).toList());
  }

  /**
   * {@code word} as a shell reads it back as one word: as it is when it holds only characters no
   * shell treats specially, else in single quotes ({@code 'it'\''s'}), or as {@code $'...'} with
   * escapes when it holds a control character (a line break in {@code --dir}), which single quotes
   * would print as a broken line.
   */
  private static String shellWord(String word) {
    if (!word.isEmpty() && word.matches("[A-Za-z0-9_@%+=:,./-]+")) {
      return word;
    }
    if (word.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
      return "'" + word.replace("'", "'\\''") + "'";
    }
    StringBuilder sb = new StringBuilder("$'");
    for (char c : word.toCharArray()) {
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\'' -> sb.append("\\'");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
      }
    }
    return sb.append('\'').toString();
  }

  private static RevCommit commit(Git git, String message) throws GitAPIException {
    PersonIdent who = new PersonIdent("gitops demo", "demo@example.invalid");
    return git.commit().setMessage(message).setAuthor(who).setCommitter(who).setSign(false).call();
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  /**
   * {@code --dir}, created when missing, as an absolute path; an empty one (it would be the working
   * directory) and one that cannot be a directory (a file in the way) are errors naming the flag.
   */
  private static Path base(Path dir) {
    if (dir.toString().isBlank()) {
      throw new IllegalArgumentException("--dir is empty: give the directory for the tour (or omit it for a temporary"
          + " one)");
    }
    try {
      return Files.createDirectories(dir).toAbsolutePath().normalize();
    } catch (IOException e) {
      // NIO names only the path ("gitops: afile"): say what is wrong with it
      throw new IllegalArgumentException("--dir " + dir + ": cannot create the directory: " + Session.whyNoDirectory(e),
          e);
    }
  }

  private static boolean isEmptyDir(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    }
  }

  /** The regular files under {@code dir}, relative, leaving out the state directory. */
  private static String listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return String.join(", ", s.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .filter(p -> !p.startsWith(".gitops/"))
          .sorted()
          .toList());
    }
  }
}

package dev.gitops.images.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.gitops.core.LogCapture;
import dev.gitops.core.source.GitHttpServer;
import dev.gitops.core.source.TestGitRepo;
import dev.gitops.images.policy.ImageChoice;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token in the write-back's URL (as the password, {@code https://x-access-token:TOKEN@host}, or
 * as the user name, {@code https://TOKEN@host}) or given as the password of {@link
 * GitWriteBack.Builder#credentials(String, String)} never appears in an error's message, in any
 * message or string of its cause chain or of what it suppressed, in its stack trace, or in a log
 * line: real JGit failures against a closed port, a repository that does not exist, a server that
 * wants a login, and pushes refused by the server.
 */
class GitWriteBackSecretsTest {

  private static final String TOKEN = "ghp_Zq81LmX7vR4sB1nK8dZ0cW5yH3jA6uEp";
  private static final String PASSWORD = "pw-Hx9Tq27Lk3";
  private static final String WEB = "image: registry.example.com/team/web:v1.2.3 # {\"$imagepolicy\": \"apps:web\"}\n";

  @TempDir
  Path tmp;
  private GitHttpServer open;
  private GitHttpServer guarded;

  @BeforeEach
  void start() throws Exception {
    TestGitRepo seed = TestGitRepo.init(tmp.resolve("seed"));
    seed.write("apps/web.yaml", WEB).commit("seed");
    for (String root : new String[] {"open", "guarded"}) {
      Path bare = tmp.resolve(root + "/cluster.git");
      seed.git("clone", "-q", "--bare", seed.dir().toString(), bare.toString());
      seed.git("-C", bare.toString(), "config", "http.receivepack", "true");
    }
    open = GitHttpServer.start(tmp.resolve("open"));
    guarded = GitHttpServer.start(tmp.resolve("guarded"), "alice", PASSWORD);
  }

  @AfterEach
  void stop() throws Exception {
    open.close();
    guarded.close();
  }

  private static Map<String, ImageChoice> choices() {
    return Map.of("apps:web", new ImageChoice("apps:web", "registry.example.com/team/web", "v1.2.4", Optional.empty(),
        1, 0, 0));
  }

  private static String withUserInfo(String url, String userInfo) {
    return url.replaceFirst("^(https?://)", "$1" + userInfo + "@");
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Everything a user could be shown of {@code e}: each message and string of its chain and what it suppressed, and its trace. */
  static String shown(Throwable e) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    StringBuilder all = new StringBuilder(trace.toString()).append('\n');
    walk(e, Collections.newSetFromMap(new IdentityHashMap<>()), all);
    return all.toString();
  }

  private static void walk(Throwable t, Set<Throwable> seen, StringBuilder all) {
    if (t == null || !seen.add(t)) {
      return;
    }
    all.append(t.getMessage()).append('\n').append(t.getLocalizedMessage()).append('\n').append(t).append('\n');
    for (Throwable s : t.getSuppressed()) {
      walk(s, seen, all);
    }
    walk(t.getCause(), seen, all);
  }

  /** Runs a write with {@code writer}, and returns everything shown of its failure and everything logged. */
  private static String failureOf(GitWriteBack.Builder writer, String... mustSay) {
    try (LogCapture logs = LogCapture.of("dev.gitops", "TRACE"); GitWriteBack git = writer.build()) {
      Throwable e = catchThrowable(() -> git.write(choices()));
      assertThat(e).isInstanceOf(GitWriteException.class);
      for (String said : mustSay) {
        assertThat(e.getMessage()).contains(said);
      }
      return shown(e) + "\n" + String.join("\n", logs.lines()) + "\n" + git;
    }
  }

  private static GitWriteBack.Builder writer(String url) {
    return GitWriteBack.builder(url).branch("main").path("apps").retryDelay(Duration.ofMillis(10))
        .timeout(Duration.ofSeconds(20)).maxPushAttempts(1);
  }

  @Test
  void aTokenInTheUrlNeverShowsWhenTheRemoteCannotBeReached() throws Exception {
    int port = closedPort();
    for (String url : new String[] {"https://x-access-token:" + TOKEN + "@127.0.0.1:" + port + "/r.git",
        "https://" + TOKEN + "@127.0.0.1:" + port + "/r.git", "http://" + TOKEN + "@127.0.0.1:" + port + "/r.git",
        "git://" + TOKEN + "@127.0.0.1:" + port + "/r.git"}) {
      String all = failureOf(writer(url), "cannot list branches", "127.0.0.1:" + port);
      assertThat(all).as(url).doesNotContain(TOKEN).doesNotContain(TOKEN.substring(4));
    }
  }

  @Test
  void aTokenInTheUrlNeverShowsWhenTheRepositoryDoesNotExistOrWantsALogin() {
    for (String url : new String[] {withUserInfo(open.url("missing.git"), TOKEN),
        withUserInfo(open.url("missing.git"), "x-access-token:" + TOKEN),
        withUserInfo(guarded.url("cluster.git"), TOKEN),
        withUserInfo(guarded.url("cluster.git"), "alice:" + TOKEN)}) {
      String all = failureOf(writer(url), "cannot list branches");
      assertThat(all).as(url).doesNotContain(TOKEN).contains("***@");
    }
    // a password given apart from the URL, and a token given as the user name without one
    String all = failureOf(writer(guarded.url("cluster.git")).credentials("alice", TOKEN), "cannot list branches");
    assertThat(all).doesNotContain(TOKEN);
    all = failureOf(writer(guarded.url("cluster.git")).credentials(TOKEN, ""), "cannot list branches");
    assertThat(all).doesNotContain(TOKEN);
  }

  @Test
  void nothingTheServerSaysWhenItRefusesAPushShowsTheSecret() throws Exception {
    // a hook that quotes what it was given (some servers echo the URL they were reached by)
    Path hook = tmp.resolve("guarded/cluster.git/hooks/pre-receive");
    Files.createDirectories(hook.getParent());
    Files.writeString(hook, "#!/bin/sh\necho 'refused for http://alice:" + PASSWORD + "@server/cluster.git'>&2\n"
        + "echo 'token " + PASSWORD + " is read-only' >&2\nexit 1\n");
    assertThat(hook.toFile().setExecutable(true)).isTrue();
    String all = failureOf(writer(withUserInfo(guarded.url("cluster.git"), "alice:" + PASSWORD)),
        "push to main refused: REJECTED_OTHER_REASON", "is read-only");
    assertThat(all).doesNotContain(PASSWORD).contains("token *** is read-only");
    all = failureOf(writer(guarded.url("cluster.git")).credentials("alice", PASSWORD), "is read-only");
    assertThat(all).doesNotContain(PASSWORD);

    // a non-bare repository refuses a push to its checked-out branch (receive.denyCurrentBranch)
    TestGitRepo work = TestGitRepo.init(tmp.resolve("open/work"));
    work.write("apps/web.yaml", WEB).commit("seed");
    work.git("config", "http.receivepack", "true");
    work.git("config", "receive.denyCurrentBranch", "refuse");
    all = failureOf(writer(withUserInfo(open.url("work"), TOKEN)), "push to main refused");
    assertThat(all).doesNotContain(TOKEN);
  }
}

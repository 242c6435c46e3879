package dev.gitops.core.internal.git;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** URLs as messages show them: a password or a token never, whatever JGit makes of the URL. */
class GitUrlsTest {

  @Test
  void aPasswordIsNeverShownWhetherOrNotTheUrlParsesWithAHost() {
    assertThat(GitUrls.display("https://bot:s3cret@git.example.com/ops.git"))
        .isEqualTo("https://bot:***@git.example.com/ops.git");
    for (String url : new String[] {"https://bot:s3/cret@git.example.com/ops.git",
        "https://bot:s3%cret@git.example.com/ops.git", "ftp://bot:s3cret@git.example.com/x"}) {
      assertThat(GitUrls.display(url)).as(url).doesNotContain("s3").contains("git.example.com");
    }
    assertThat(GitUrls.display("/srv/repos/ops")).isEqualTo("/srv/repos/ops");
    assertThat(GitUrls.withoutPassword("https://bot:s3cret@h/x")).isEqualTo("https://bot:***@h/x");
  }

  @Test
  void aTokenGivenAsTheUserNameOfAnHttpUrlIsNeverShown() {
    String token = "ghp_0123456789abcdefABCDEF0123456789abcd";
    for (String url : List.of("https://" + token + "@github.com/ops/desired.git",
        "http://" + token + "@127.0.0.1:8080/git/repo", "https://" + token + ":@github.com/ops.git",
        "https://" + token + ":x-oauth-basic@github.com/ops.git", "git://" + token + "@example.com/ops.git",
        // a short token, and any user name without a password on HTTP(S): that is where a token goes
        "https://abc123@git.example.com/ops.git", "HTTPS://abc123@git.example.com/ops.git")) {
      String shown = GitUrls.display(url);
      assertThat(shown).as(url).contains("***@").doesNotContain(token).doesNotContain("abc123");
      // as text that does not parse (a stray '%'), too
      assertThat(GitUrls.withoutPassword(url + "%zz")).as(url).contains("***@").doesNotContain(token)
          .doesNotContain("abc123");
    }
    assertThat(GitUrls.display("https://" + token + "@github.com/ops.git")).isEqualTo("https://***@github.com/ops.git");
    // a user name that looks like a token is hidden even with a password; SSH user names are names
    assertThat(GitUrls.display("https://glpat-abcdefgh:x@gitlab.com/o.git")).isEqualTo("https://***@gitlab.com/o.git");
    assertThat(GitUrls.display("ssh://git@github.com/ops.git")).isEqualTo("ssh://git@github.com/ops.git");
    assertThat(GitUrls.display("git@github.com:ops/desired.git")).isEqualTo("git@github.com:ops/desired.git");
    assertThat(GitUrls.display("ssh://git:pw@github.com/ops.git")).isEqualTo("ssh://git:***@github.com/ops.git");
    assertThat(GitUrls.display("https://github.com/ops.git")).isEqualTo("https://github.com/ops.git");
  }

  @Test
  void theValuesOfAQueryAreNeverShownNorLeftInMessages() {
    String url = "http://127.0.0.1:9/r.git?private_token=SECRETQ&ref=main&flag";
    assertThat(GitUrls.display(url)).isEqualTo("http://127.0.0.1:9/r.git?private_token=***&ref=***&flag");
    assertThat(GitUrls.display("https://bot:pw@h/r.git?t=a%2Fb#top")).isEqualTo("https://bot:***@h/r.git?t=***#top");
    assertThat(GitUrls.display("https://h/r.git?")).isEqualTo("https://h/r.git?");
    assertThat(GitUrls.display("/srv/repos/ops?x=1")).as("a path (no scheme) keeps no secret in a query either")
        .isEqualTo("/srv/repos/ops?x=***");
    assertThat(GitUrls.scrub("cannot open git repository at http://127.0.0.1:9/r.git?private_token=SECRETQ: a/b"
        + " SECRETQ", url)).doesNotContain("SECRETQ");
    assertThat(GitUrls.scrub("token a/b refused", "https://h/r.git?t=a%2Fb")).isEqualTo("token *** refused");
    assertThat(GitUrls.display("https://github.com/ops.git")).isEqualTo("https://github.com/ops.git");
  }

  @Test
  void scrubMasksTheUrlsSecretsInAnyMessageButLeavesOtherWordsAlone() {
    String url = "https://tok%2Fen9@git.example.com/ops.git";
    String message = "https://tok%2Fen9@git.example.com/ops.git: not authorized (user tok/en9; token tok%2Fen9)";
    assertThat(GitUrls.scrub(message, url)).isEqualTo("https://***@git.example.com/ops.git: not authorized"
        + " (user ***; token ***)");
    // a short user name is masked where it stands alone, not inside other words
    assertThat(GitUrls.scrub("https://git@h/x: gitops cannot read git", "https://git@h/x"))
        .isEqualTo("https://***@h/x: gitops cannot read ***");
    assertThat(GitUrls.scrub("https://bot:***@h/x: s3cret", "https://bot:s3cret@h/x"))
        .isEqualTo("https://bot:***@h/x: ***");
    // a full stop ends a word; a dot between word characters (a host name) does not
    assertThat(GitUrls.scrub("rejected pw12. Tried pw12.example and .pw12, then pw12...", "https://bot:pw12@h/x"))
        .isEqualTo("rejected ***. Tried pw12.example and .***, then ***...");
    assertThat(GitUrls.scrub("gitops cannot read git. Is git.example.com up?", "https://git@h/x"))
        .isEqualTo("gitops cannot read ***. Is git.example.com up?");
    assertThat(GitUrls.leaks("no secret here", url)).isFalse();
    assertThat(GitUrls.leaks("tok/en9", url)).isTrue();
    // SSH user names are not secrets
    assertThat(GitUrls.scrub("git@github.com: Permission denied", "git@github.com:ops.git"))
        .isEqualTo("git@github.com: Permission denied");
  }

  @Test
  void aPasswordGivenApartFromTheUrlIsMaskedWhereverItAppearsHoweverShort() {
    String url = "https://bot@git.example.com/ops.git";
    assertThat(GitUrls.scrub("rejected pw12. form user%3Apw12 sent", url, List.of("pw12")))
        .isEqualTo("rejected ***. form user%3A*** sent");
    assertThat(GitUrls.scrub("auth=s3cr3t-pw-long;tokens3cr3t-pw-long", url, List.of("s3cr3t-pw-long")))
        .isEqualTo("auth=***;token***");
    assertThat(GitUrls.scrub("", url, List.of("", "x"))).isEmpty();
  }

  @Test
  void scrubbedCopiesAChainWhoseMessagesHoldASecretKeepingTypesAndTraces() {
    String token = "ghp_0123456789abcdefABCDEF0123456789abcd";
    String url = "https://" + token + "@git.example.com/ops.git";
    IOException root = new IOException("Invalid remote: " + url);
    IllegalStateException middle = new IllegalStateException("listing failed", root);
    RuntimeException top = new RuntimeException("no secret here", middle);
    top.addSuppressed(new IllegalArgumentException("also tried " + url));
    root.initCause(top);  // a cycle is cut, never followed forever

    Throwable safe = GitUrls.scrubbed(top, url);
    assertThat(safe).isNotSameAs(top);
    StringWriter trace = new StringWriter();
    safe.printStackTrace(new PrintWriter(trace));
    assertThat(trace.toString()).doesNotContain(token).contains("https://***@git.example.com/ops.git")
        .contains("java.io.IOException: Invalid remote: https://***@git.example.com/ops.git")
        .contains("java.lang.IllegalArgumentException: also tried https://***@")
        .contains("at " + getClass().getName());
    assertThat(safe.toString()).isEqualTo("java.lang.RuntimeException: no secret here");
    assertThat(safe.getCause().getMessage()).isEqualTo("java.lang.IllegalStateException: listing failed");
    assertThat(safe.getCause().getCause().getMessage()).doesNotContain(token).startsWith("java.io.IOException: ");
    assertThat(safe.getCause().getStackTrace()).isEqualTo(middle.getStackTrace());

    // nothing to hide: the same exception; other secrets through a scrub of one's own
    RuntimeException clean = new RuntimeException("connection refused", new IOException("timeout"));
    assertThat(GitUrls.scrubbed(clean, url)).isSameAs(clean);
    assertThat(GitUrls.scrubbed(null, url)).isNull();
    Throwable extra = GitUrls.scrubbed(new RuntimeException("bad password pw-77x1"),
        m -> GitUrls.scrub(m, url, List.of("pw-77x1")));
    assertThat(extra.getMessage()).isEqualTo("java.lang.RuntimeException: bad password ***");
    assertThat(GitUrls.scrub("token " + token + " and pw-77x1", url, List.of("pw-77x1", "")))
        .isEqualTo("token *** and ***");

    // a secret far down a very long chain is never shown: the copy is cut before it
    Throwable deep = new IOException("at the bottom: " + url);
    for (int i = 0; i < 200; i++) {
      deep = new RuntimeException("link " + i, deep);
    }
    StringWriter deepTrace = new StringWriter();
    GitUrls.scrubbed(deep, url).printStackTrace(new PrintWriter(deepTrace));
    assertThat(deepTrace.toString()).doesNotContain(token).contains("link 199");
  }
}

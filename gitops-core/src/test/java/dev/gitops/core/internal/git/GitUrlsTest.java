package dev.gitops.core.internal.git;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** URLs as messages show them: a password never, whatever JGit makes of the URL. */
class GitUrlsTest {

  @Test
  void aPasswordIsNeverShownWhetherOrNotTheUrlParsesWithAHost() {
    assertThat(GitUrls.display("https://bot:s3cret@git.example.com/ops.git"))
        .isEqualTo("https://bot@git.example.com/ops.git");
    for (String url : new String[] {"https://bot:s3/cret@git.example.com/ops.git",
        "https://bot:s3%cret@git.example.com/ops.git", "ftp://bot:s3cret@git.example.com/x"}) {
      assertThat(GitUrls.display(url)).as(url).doesNotContain("s3").contains("git.example.com");
    }
    assertThat(GitUrls.display("/srv/repos/ops")).isEqualTo("/srv/repos/ops");
    assertThat(GitUrls.withoutPassword("https://bot:s3cret@h/x")).isEqualTo("https://bot:***@h/x");
  }
}

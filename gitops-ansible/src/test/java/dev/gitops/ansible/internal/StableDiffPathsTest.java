package dev.gitops.ansible.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A check-mode diff names the file Ansible rendered a template to, in directories it names anew at
 * every run; the provider writes them one way, so that the same drift observed twice is equal.
 */
class StableDiffPathsTest {

  @Test
  void theRenderedFilesRandomDirectoriesAreWrittenOneWayWhateverTheLocalTemporaryDirectoryHolds() {
    String header = "--- before: /srv/app.conf\n+++ after: %s/ansible-local-26400fmluuhtc/tmpx1zdyza_/app.conf.j2\n"
        + "@@ -1 +1 @@\n-a\n+b\n";
    String want = "--- before: /srv/app.conf\n+++ after: (rendered)/app.conf.j2\n@@ -1 +1 @@\n-a\n+b\n";
    // the run's own directory, whose path may hold blanks, commas and colons (the work directory's)
    String ours = "/var/lib/my gitops, prod:1/.inventory.yml.work/runs/run-123/local-tmp";
    assertThat(PlaybookRunner.stableTemporaryPaths(header.formatted(ours), ours)).isEqualTo(want);
    // one an ansible.cfg gives, which the environment does not name
    assertThat(PlaybookRunner.stableTemporaryPaths(header.formatted("/home/u/.ansible/tmp"), ours)).isEqualTo(want);
    // the rest of a diff is left as it is
    String plain = "--- before\n+++ after\n@@ -1 +1 @@\n-/tmp/ansible-localx\n+port=2\n";
    assertThat(PlaybookRunner.stableTemporaryPaths(plain, ours)).isEqualTo(plain);
  }
}

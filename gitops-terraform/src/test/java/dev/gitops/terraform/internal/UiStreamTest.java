package dev.gitops.terraform.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Terraform's machine-readable UI stream: what is kept of it. */
class UiStreamTest {

  static String diagnostic(String severity, String summary, String detail) {
    return "{\"@level\":\"" + severity + "\",\"@message\":\"Error: " + summary + "\",\"type\":\"diagnostic\","
        + "\"diagnostic\":{\"severity\":\"" + severity + "\",\"summary\":\"" + summary + "\",\"detail\":\"" + detail
        + "\"}}";
  }

  @Test
  void diagnosticsPastTheirBoundAreCountedNotKept() {
    UiStream stream = new UiStream(null);
    String detail = "x".repeat(4096);
    int n = 3000;  // 12 MB of details: every one was held until the command ended
    for (int i = 0; i < n; i++) {
      stream.accept(diagnostic(i % 2 == 0 ? "error" : "warning", "Failed " + i, detail));
    }
    long kept = stream.diagnostics().stream().mapToLong(d -> d.summary().length() + d.detail().length()).sum();
    assertThat(kept).isLessThanOrEqualTo(UiStream.KEPT_CHARS + 4096 + 20);
    assertThat(stream.diagnostics()).hasSizeLessThan(n).first().extracting(UiStream.Diagnostic::summary)
        .isEqualTo("Failed 0");
    assertThat(stream.errors().size() + stream.droppedErrors()).as("every error kept or counted").isEqualTo(n / 2);
  }

  @Test
  void theFirstDiagnosticsAreKeptWhateverTheirSize() {
    UiStream stream = new UiStream(null);
    String huge = "y".repeat((int) UiStream.KEPT_CHARS + 1);
    for (int i = 0; i < UiStream.ALWAYS_KEPT + 2; i++) {
      stream.accept(diagnostic("error", "Huge " + i, huge));
    }
    assertThat(stream.errors()).hasSize(UiStream.ALWAYS_KEPT);
    assertThat(stream.droppedErrors()).isEqualTo(2);
  }
}

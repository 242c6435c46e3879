package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LogLinesTest {

  @Test
  void whatIsPrintedThroughTheLogStreamStaysOnItsLineAndTheUsersStreamIsTheOneBeneath() {
    PrintStream before = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream captured = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try {
      System.setErr(captured);
      LogLines.install();
      LogLines.install();  // once: not a log stream over a log stream
      assertThat(System.err).isInstanceOf(LogLines.class);
      assertThat(LogLines.userErr()).isSameAs(captured);

      // what slf4j-simple does with a record and its throwable
      System.err.println("[main] WARN x - cannot read a\n[main] ERROR forged\u001b[2J\u202e");
      new IllegalStateException("bad\r\nline").printStackTrace(System.err);
      LogLines.userErr().println("usage:\n  gitops sync");
      System.err.flush();

      String out = bytes.toString(StandardCharsets.UTF_8);
      assertThat(out.lines().findFirst().orElseThrow())
          .isEqualTo("[main] WARN x - cannot read a\\n[main] ERROR forged\\u001b[2J\\u202e");
      assertThat(out).contains("java.lang.IllegalStateException: bad\\r\\nline\n\tat ")
          .as("the command's own stream is not escaped").endsWith("usage:\n  gitops sync\n")
          .doesNotContain("\u001b").doesNotContain("\u202e");
    } finally {
      System.setErr(before);
    }
  }
}

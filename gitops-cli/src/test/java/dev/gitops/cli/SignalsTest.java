package dev.gitops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which signals a {@code /proc/<pid>/status} text says the process ignores (SIGHUP under {@code nohup}). */
class SignalsTest {

  static List<String> status(String sigIgn) {
    return List.of("Name:\tjava", "SigBlk:\t0000000000000000", "SigIgn:\t" + sigIgn, "SigCgt:\t2000000181005ccf");
  }

  @Test
  void theIgnoredMaskIsReadBitBySignalNumber() {
    // nohup: SIGHUP (1) ignored
    assertThat(Signals.ignored(status("0000000000000001"), 1)).isTrue();
    assertThat(Signals.ignored(status("0000000000000001"), 2)).isFalse();
    assertThat(Signals.ignored(status("0000000000000001"), 15)).isFalse();
    // SIGINT (2) and SIGTERM (15): bits 1 and 14
    assertThat(Signals.ignored(status("0000000000004002"), 2)).isTrue();
    assertThat(Signals.ignored(status("0000000000004002"), 15)).isTrue();
    assertThat(Signals.ignored(status("0000000000004002"), 1)).isFalse();
    // a signal above 32 and one beyond the mask
    assertThat(Signals.ignored(status("0000000100000000"), 33)).isTrue();
    assertThat(Signals.ignored(status("1"), 9)).isFalse();
  }

  @Test
  void aMaskThatIsNotHexIgnoresNothing() {
    assertThat(Signals.ignored(status("000000000000000z"), 1)).isFalse();
    assertThat(Signals.ignored(status(""), 1)).isFalse();
  }

  @Test
  void withoutTheLineNothingIsIgnored() {
    assertThat(Signals.ignored(List.of("Name:\tjava"), 1)).isFalse();
    assertThat(Signals.ignored(List.of(), 1)).isFalse();
  }
}

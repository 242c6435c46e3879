package dev.gitops.core.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class KeyFileNamesTest {

  @Property
  void aWholeNameSpellsItsTextAndAShortenedOneSpellsNothing(@ForAll @StringLength(max = 120) String text) {
    // a lone surrogate has no UTF-8 (it is written as '?'): no path read from Git holds one
    Assume.that(new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(text));
    String name = KeyFileNames.of(text);
    if (name.contains("~")) {
      assertThat(KeyFileNames.textOf(name)).isNull();
    } else {
      assertThat(KeyFileNames.textOf(name)).isEqualTo(text);
    }
  }

  @Test
  void pathsOfEveryKindComeBack() {
    for (String text : new String[] {"conf/a.conf", "conf/\u00e9t\u00e9.conf", "A B%20~x", ".hidden", "a.", "",
        "d/e/f g.conf", "\uD83D\uDE00/emoji"}) {
      assertThat(KeyFileNames.textOf(KeyFileNames.of(text))).as(text).isEqualTo(text);
    }
    assertThat(KeyFileNames.textOf(KeyFileNames.of("d/" + "x".repeat(300)))).as("shortened").isNull();
  }

  @Test
  void namesTheEncodingNeverGivesSpellNothing() {
    for (String name : new String[] {
        "conf%2fa.conf.json",   // lower-case hex
        "conf/a.conf.json",     // a character left unencoded
        "Conf.json",            // upper case unencoded
        ".a.json",              // a leading dot
        "a%2.json",             // an escape cut short
        "a%2",                  // no suffix
        "a%ZZ.json",            // not hex
        "a%C3.json",            // not UTF-8
        "a%C3%A9%.json",        // a lone percent sign
        "\u00e9.json"}) {       // not ASCII
      assertThat(KeyFileNames.textOf(name)).as(name).isNull();
    }
  }
}

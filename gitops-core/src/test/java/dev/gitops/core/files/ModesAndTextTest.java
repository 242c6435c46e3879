package dev.gitops.core.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModesAndTextTest {

  @ParameterizedTest
  @ValueSource(strings = {"644", "0644", "0777", "000", "0400", "755"})
  void threeOrFourOctalDigitsAreAMode(String text) {
    assertThat(Modes.parse(text)).isEqualTo(Integer.parseInt(text, 8));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(strings = {"", "64", "06444", "0648", "0x1f", "abc", "+644", "-644", " 644", "0 64", "６４４"})
  void anythingElseIsRefusedNamingIt(String text) {
    assertThatThrownBy(() -> Modes.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("3 or 4 octal digits").hasMessageContaining(String.valueOf(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"4755", "2755", "1777"})
  void setuidSetgidAndStickyBitsAreRefused(String text) {
    assertThatThrownBy(() -> Modes.parse(text)).hasMessageContaining("setuid/setgid/sticky");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "plain ascii\n", "tab\tand DEL \u007f", "caf\u00e9", "\u65e5\u672c", "emoji \ud83d\ude00"})
  void validUtf8IsItsText(String text) {
    assertThat(FileFormats.utf8OrNull(text.getBytes(StandardCharsets.UTF_8))).isEqualTo(text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"c328", "ff", "61ed", "616200", "00", "e282"})
  void invalidUtf8OrANulByteIsNotText(String hex) {
    byte[] bytes = java.util.HexFormat.of().parseHex(hex);
    assertThat(FileFormats.utf8OrNull(bytes)).isNull();
  }
}

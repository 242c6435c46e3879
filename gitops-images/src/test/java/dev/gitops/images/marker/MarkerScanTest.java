package dev.gitops.images.marker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The pass over a file's bytes before it is parsed: its encoding, the marker field in it, UTF-8 or not. */
class MarkerScanTest {

  private static final String MARKED = "image: nginx:1.0 # {\"$imagepolicy\": \"apps:web\"}\n";

  @Test
  void theMarkerFieldIsFoundInTheEncodingTheFirstBytesNameAndOnlyUtf8IsText() throws Exception {
    MarkerScan bom8 = MarkerScan.of(("\ufeff" + MARKED).getBytes(StandardCharsets.UTF_8));
    assertThat(bom8.encoding()).isEqualTo(StandardCharsets.UTF_8);
    assertThat(bom8.byteOrderMark()).isTrue();
    assertThat(bom8.mentionsMarkers()).isTrue();
    assertThat(bom8.notUtf8()).isEmpty();
    for (String cs : new String[] {"UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"}) {
      for (String bom : new String[] {"", "\ufeff"}) {
        MarkerScan s = MarkerScan.of((bom + MARKED).getBytes(Charset.forName(cs)));
        assertThat(s.encoding().name()).as(cs + bom.length()).isEqualTo(cs);
        assertThat(s.byteOrderMark()).as(cs + bom.length()).isEqualTo(!bom.isEmpty());
        assertThat(s.mentionsMarkers()).as(cs + bom.length()).isTrue();
        assertThat(s.notUtf8()).as(cs + bom.length()).get().asString().startsWith(cs + " text (");
      }
    }
    // the field across the chunks a stream is read in, in UTF-16: 2 bytes a character
    byte[] big = ("\ufeff" + "x".repeat(32 * 1024 - 4) + MARKED).getBytes(StandardCharsets.UTF_16LE);
    assertThat(MarkerScan.of(new ByteArrayInputStream(big)).mentionsMarkers()).isTrue();
    assertThat(MarkerScan.of(new ByteArrayInputStream("x".repeat(70_000).getBytes(StandardCharsets.UTF_16LE)))
        .mentionsMarkers()).isFalse();
    // the needle's own prefix again before it ("$i$imagepolicy"): found all the same
    assertThat(MarkerScan.of("a: b # $i$im$imagepolicy".getBytes(StandardCharsets.UTF_8)).mentionsMarkers()).isTrue();
  }

  @Test
  void utf8IsWhatJavasStrictDecoderTakesWhateverTheBytes() {
    Random random = new Random(42);
    byte[][] edges = {{(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xe0, (byte) 0x80,
        (byte) 0xaf}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82}, {(byte) 0xf0,
        (byte) 0x9f, (byte) 0x98, (byte) 0x80}, {(byte) 0xef, (byte) 0xbf, (byte) 0xbf}};
    for (int i = 0; i < 3000; i++) {
      byte[] b;
      if (i < edges.length) {
        b = edges[i];
      } else {
        b = new byte[1 + random.nextInt(12)];
        random.nextBytes(b);
        b[0] = (byte) ('a' + random.nextInt(26));  // an ASCII first byte and no NUL after it: read as UTF-8
        for (int k = 1; k < b.length; k++) {
          b[k] = b[k] == 0 ? 1 : (random.nextInt(3) == 0 ? (byte) (b[k] & 0x7f | 1) : b[k]);
        }
      }
      byte[] text = b[0] < 0 ? concat(new byte[] {'a'}, b) : b;
      boolean decodes;
      try {
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(text));
        decodes = true;
      } catch (CharacterCodingException e) {
        decodes = false;
      }
      MarkerScan s = MarkerScan.of(text);
      if (s.encoding() == StandardCharsets.UTF_8) {
        assertThat(s.notUtf8().isEmpty()).as(java.util.HexFormat.of().formatHex(text)).isEqualTo(decodes);
      }
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

package dev.gitops.api.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The modules' one SHA-256 hex helper writes what each module's own copy wrote. */
class Sha256Test {

  @Test
  void hexIsTheStandardDigestInLowerCaseOfTheBytesOrOfTheTextsUtf8Bytes() throws Exception {
    // FIPS 180-2 test vectors
    assertThat(Sha256.hex("")).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Sha256.hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (String text : new String[] {"https://example.com/r.git", "clé \u00e9t\u00e9 \ud83d\ude00", "a\nb\u0000c"}) {
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      String copy = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      assertThat(Sha256.hex(text)).as(text).isEqualTo(copy).isEqualTo(Sha256.hex(bytes));
    }
  }

  @Test
  void aStreamIsDigestedInBlocksToTheSameHexAsItsBytes() throws Exception {
    byte[] big = new byte[3 * 8192 + 17];  // more than one block, the last one short
    new java.util.Random(7).nextBytes(big);
    assertThat(Sha256.hex(new java.io.ByteArrayInputStream(big))).isEqualTo(Sha256.hex(big));
    assertThat(Sha256.hex(new java.io.ByteArrayInputStream(new byte[0]))).isEqualTo(Sha256.hex(""));
  }
}

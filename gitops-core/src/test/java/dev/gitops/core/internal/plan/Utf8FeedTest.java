package dev.gitops.core.internal.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.api.Documents;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What the plan id's feed hashes is the UTF-8 of its texts one after another, wherever a buffer
 * edge or a non-ASCII character falls.
 */
class Utf8FeedTest {

  @Test
  void theFeedHashesTheUtf8BytesOfWhatItWasGivenInOrder() throws Exception {
    Random random = new Random(7);
    String[] rare = {"\u00e9", "\u2014", "\ud83d\ude00"};
    for (int round = 0; round < 40; round++) {
      MessageDigest md = Documents.sha256();
      PlanFiles.Utf8Feed feed = new PlanFiles.Utf8Feed(md);
      ByteArrayOutputStream want = new ByteArrayOutputStream();
      for (int part = 0; part < 30; part++) {
        int kind = random.nextInt(10);
        if (kind == 0) {
          int n = random.nextInt(2000) - 1000;
          feed.number(n);
          want.writeBytes(Integer.toString(n).getBytes(StandardCharsets.US_ASCII));
        } else if (kind == 1) {
          byte[] b = new byte[random.nextInt(random.nextBoolean() ? 100 : 10_000)];
          random.nextBytes(b);
          feed.bytes(b);
          want.writeBytes(b);
        } else {
          // short texts and texts longer than the buffer, mostly ASCII, a rare character anywhere in them
          StringBuilder t = new StringBuilder();
          int len = random.nextInt(random.nextInt(4) == 0 ? 20_000 : 80);
          while (t.length() < len) {
            t.append(random.nextInt(300) == 0 ? rare[random.nextInt(rare.length)] : (char) ('a' + random.nextInt(26)));
          }
          feed.ascii(t.toString());
          want.writeBytes(t.toString().getBytes(StandardCharsets.UTF_8));
        }
      }
      feed.flush();
      assertThat(HexFormat.of().formatHex(md.digest()))
          .isEqualTo(HexFormat.of().formatHex(Documents.sha256().digest(want.toByteArray())));
    }
  }
}

package dev.gitops.core.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableFilesTest {

  @TempDir
  Path dir;

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void readAllReturnsEveryByteOfFilesSmallerThanAndSeveralSlicesLong() throws Exception {
    for (int n : new int[] {0, 1, DurableFiles.SLICE - 1, DurableFiles.SLICE, 3 * DurableFiles.SLICE + 17}) {
      byte[] want = random(n, n);
      Path f = dir.resolve("f" + n);
      Files.write(f, want);
      assertThat(DurableFiles.readAll(f)).as("%d bytes", n).isEqualTo(want);
    }
  }

  @Test
  void readSizedReadsTheWholeFileWhateverSizeAStatGaveAndFollowsNoLinkWhenToldNot() throws Exception {
    for (int n : new int[] {0, 10, 2 * DurableFiles.SLICE + 3}) {
      byte[] want = random(n, n);
      Path f = Files.write(dir.resolve("f" + n), want);
      // exact, grown since (a smaller size), shrunk since (a larger one), none known
      for (long said : new long[] {n, 0, 1, n - 1, n + 1, n + DurableFiles.SLICE + 1, -1}) {
        assertThat(DurableFiles.readSized(f, said, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            .as("%d bytes, a stat said %d", n, said).isEqualTo(want);
      }
    }
    Path f = Files.write(dir.resolve("target"), random(5, 1));
    Path link = Files.createSymbolicLink(dir.resolve("link"), f);
    assertThatThrownBy(() -> DurableFiles.readSized(link, 5, java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .isInstanceOf(IOException.class);
    assertThat(DurableFiles.readSized(link, 5)).as("followed when not told otherwise").hasSize(5);
    assertThatThrownBy(() -> DurableFiles.readSized(dir.resolve("missing"), 5)).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void readAllOfAMissingFileSaysNoSuchFile() {
    assertThatThrownBy(() -> DurableFiles.readAll(dir.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void writeWritesEveryByteOfAContentSeveralSlicesLong() throws Exception {
    byte[] want = random(2 * DurableFiles.SLICE + 5, 7);
    Path f = dir.resolve("big");
    DurableFiles.write(f, want);
    assertThat(Files.readAllBytes(f)).isEqualTo(want);
  }

  @Test
  void writeFullyWritesTheRemainingBytesAtThePositionAndKeepsTheLimit() throws Exception {
    byte[] body = random(DurableFiles.SLICE + 100, 3);
    Path f = dir.resolve("journal");
    Files.write(f, new byte[] {1, 2, 3});
    ByteBuffer buf = ByteBuffer.wrap(body, 10, body.length - 20);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      DurableFiles.writeFully(ch, buf, 3);
    }
    assertThat(buf.position()).isEqualTo(body.length - 10);
    assertThat(buf.limit()).isEqualTo(body.length - 10);
    byte[] got = Files.readAllBytes(f);
    assertThat(got).hasSize(3 + body.length - 20);
    assertThat(java.util.Arrays.copyOfRange(got, 0, 3)).containsExactly(1, 2, 3);
    assertThat(java.util.Arrays.copyOfRange(got, 3, got.length))
        .isEqualTo(java.util.Arrays.copyOfRange(body, 10, body.length - 10));
  }

  @Test
  void readFullyFillsTheBufferUpToItsLimitOrStopsWhereTheFileEnds() throws Exception {
    byte[] want = random(2 * DurableFiles.SLICE + 9, 11);
    Path f = dir.resolve("in");
    Files.write(f, want);
    ByteBuffer buf = ByteBuffer.allocate(want.length + 50);
    buf.limit(want.length - 3);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      DurableFiles.readFully(ch, buf);
    }
    assertThat(buf.position()).isEqualTo(want.length - 3);
    assertThat(buf.limit()).isEqualTo(want.length - 3);
    assertThat(java.util.Arrays.copyOf(buf.array(), want.length - 3))
        .isEqualTo(java.util.Arrays.copyOf(want, want.length - 3));
    ByteBuffer more = ByteBuffer.allocate(want.length + 50);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      DurableFiles.readFully(ch, more);
    }
    assertThat(more.position()).as("stops at the end of the file").isEqualTo(want.length);
    assertThat(more.limit()).isEqualTo(want.length + 50);
  }

  @Test
  void readRegularReadsAFileAndRefusesALinkADirectoryAFifoAndTooManyBytesNamingThem() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "bytes");
    assertThat(DurableFiles.readRegular(file, 5)).isEqualTo("bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(DurableFiles.readRegular(Files.createFile(dir.resolve("empty")), 0)).isEmpty();
    assertThatThrownBy(() -> DurableFiles.readRegular(file, 4))
        .isInstanceOf(IOException.class).hasMessageContaining(file.toString()).hasMessageContaining("5 bytes");
    Path link = Files.createSymbolicLink(dir.resolve("link"), file);
    assertThatThrownBy(() -> DurableFiles.readRegular(link, 100, java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .isInstanceOf(IOException.class).hasMessageContaining(link + " is not a regular file but a symbolic link");
    assertThat(DurableFiles.readRegular(link, 100)).as("followed when not told otherwise").hasSize(5);
    Path toDir = Files.createSymbolicLink(dir.resolve("to-dir"), dir);
    assertThatThrownBy(() -> DurableFiles.readRegular(toDir, 100))
        .isInstanceOf(IOException.class).hasMessageContaining(toDir + " is not a regular file but a directory");
    assertThatThrownBy(() -> DurableFiles.readRegular(dir, 100))
        .isInstanceOf(IOException.class).hasMessageContaining("a directory");
    assertThatThrownBy(() -> DurableFiles.readRegular(dir.resolve("absent"), 100))
        .isInstanceOf(NoSuchFileException.class);
    Path fifo = dir.resolve("fifo");
    org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo");
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () ->
        assertThatThrownBy(() -> DurableFiles.readRegular(fifo, 100))
            .isInstanceOf(IOException.class).hasMessageContaining("a FIFO, socket or device"));
    Path toFifo = Files.createSymbolicLink(dir.resolve("to-fifo"), fifo);
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () ->
        assertThatThrownBy(() -> DurableFiles.requireRegular(toFifo))
            .isInstanceOf(IOException.class).hasMessageContaining(toFifo + " is not a regular file but a FIFO"));
  }
}

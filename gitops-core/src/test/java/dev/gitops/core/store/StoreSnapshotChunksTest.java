package dev.gitops.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class StoreSnapshotChunksTest {

  /** Writes of any sizes, single bytes among them, across chunk boundaries: the bytes of a plain stream. */
  @Property(tries = 60)
  void chunksHoldWhatAPlainStreamHolds(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = 300_000) Integer> writes,
      @ForAll @IntRange(min = 0, max = 64) int room) {
    StoreSnapshot.Chunks chunks = new StoreSnapshot.Chunks();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    plain.write(new byte[room], 0, room);
    int seed = 0;
    for (int n : writes) {
      if (n % 7 == 0) {
        chunks.write(n);
        plain.write(n);
        continue;
      }
      byte[] b = new byte[n + 3];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (seed++ * 31);
      }
      chunks.write(b, 1, n);
      plain.write(b, 1, n);
    }
    byte[] got = chunks.toArray(room);
    assertThat(got.length).isEqualTo(plain.size());
    assertThat(Arrays.equals(got, plain.toByteArray())).isTrue();
  }
}

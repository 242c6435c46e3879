package dev.gitops.core.internal.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Chunked file-system work: every item once, results in order, the first failure in order. */
class FileChunksTest {

  private static List<Integer> items(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  @Test
  void everyItemIsWorkedOnOnceAndTheChunksResultsComeInTheItemsOrder() throws IOException {
    for (int n : new int[] {0, 1, FileChunks.CHUNK, FileChunks.PARALLEL_FROM - 1, FileChunks.PARALLEL_FROM,
        5 * FileChunks.CHUNK + 3}) {
      List<Integer> items = items(n);
      Set<Integer> seen = ConcurrentHashMap.newKeySet();
      List<List<Integer>> chunks = FileChunks.map(items, (list, from, to) -> {
        List<Integer> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
          assertThat(seen.add(list.get(i))).isTrue();
          out.add(list.get(i) * 2);
        }
        return out;
      });
      List<Integer> flat = new ArrayList<>();
      chunks.forEach(flat::addAll);
      assertThat(flat).as("n = %d", n).isEqualTo(items.stream().map(i -> i * 2).toList());
      assertThat(chunks).hasSize((n + FileChunks.CHUNK - 1) / FileChunks.CHUNK);
      assertThat(seen).hasSize(n);
    }
  }

  @Test
  void fewItemsAreWorkedOnByTheCallingThreadAlone() throws IOException {
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    FileChunks.map(items(FileChunks.PARALLEL_FROM - 1), (list, from, to) -> threads.add(Thread.currentThread()));
    assertThat(threads).containsExactly(Thread.currentThread());
  }

  @Test
  void ofSeveralFailingChunksTheFirstInTheItemsOrderIsThrownWithTheOthersSuppressed() {
    List<Integer> items = items(6 * FileChunks.CHUNK);
    for (int round = 0; round < 20; round++) {
      assertThatThrownBy(() -> FileChunks.map(items, (list, from, to) -> {
        int chunk = from / FileChunks.CHUNK;
        if (chunk == 1 || chunk == 4) {
          throw new IOException("chunk " + chunk);
        }
        if (chunk == 5) {
          throw new IllegalStateException("chunk 5");
        }
        return chunk;
      })).isInstanceOf(IOException.class).hasMessage("chunk 1")
          .satisfies(e -> assertThat(e.getSuppressed()).extracting(Throwable::getMessage)
              .containsExactly("chunk 4", "chunk 5"));
    }
    assertThatThrownBy(() -> FileChunks.map(items, (list, from, to) -> {
      throw new IllegalArgumentException("at " + from);
    })).isInstanceOf(IllegalArgumentException.class).hasMessage("at 0");
  }
}

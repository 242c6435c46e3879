package dev.gitops.core.internal.fs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Per-item file-system work (a stat, a link read per file) over many items, run by chunks on the
 * calling thread and the common pool: most of such a call is the kernel's, which another core
 * does as well while this one waits for nothing. Below {@link #PARALLEL_FROM} items everything
 * runs on the calling thread. The results come back in the items' order, and of several chunks
 * that fail, the first one's failure (in the items' order) is thrown, with the others suppressed
 * in it: what a caller reports does not depend on the threads' timing.
 */
public final class FileChunks {

  /** Items per chunk. */
  public static final int CHUNK = 512;

  /** From this many items on, the chunks run in parallel. */
  public static final int PARALLEL_FROM = 2 * CHUNK;

  private FileChunks() {}

  /** The work on one chunk: the items from {@code from} (inclusive) to {@code to} (exclusive). */
  @FunctionalInterface
  public interface Work<T, R> {
    R run(List<T> items, int from, int to) throws IOException;
  }

  /** {@code work}'s result for each chunk of {@code items}, in order. */
  public static <T, R> List<R> map(List<T> items, Work<T, R> work) throws IOException {
    int chunks = (items.size() + CHUNK - 1) / CHUNK;
    Object[] results = new Object[chunks];
    Throwable[] failures = new Throwable[chunks];
    java.util.function.IntConsumer one = k -> {
      try {
        results[k] = work.run(items, k * CHUNK, Math.min(items.size(), (k + 1) * CHUNK));
      } catch (IOException | RuntimeException | Error e) {
        failures[k] = e;
      }
    };
    if (items.size() < PARALLEL_FROM) {
      for (int k = 0; k < chunks; k++) {
        one.accept(k);
      }
    } else {
      // the stream's end orders every chunk's result written before they are read below
      IntStream.range(0, chunks).parallel().forEach(one);
    }
    Throwable first = null;
    for (Throwable t : failures) {
      if (t == null) {
        continue;
      }
      if (first == null) {
        first = t;
      } else {
        first.addSuppressed(t);
      }
    }
    if (first instanceof IOException e) {
      throw e;
    }
    if (first instanceof RuntimeException e) {
      throw e;
    }
    if (first instanceof Error e) {
      throw e;
    }
    List<R> out = new ArrayList<>(chunks);
    for (Object r : results) {
      @SuppressWarnings("unchecked")
      R typed = (R) r;
      out.add(typed);
    }
    return out;
  }
}

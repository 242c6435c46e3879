package dev.gitops.core.store;

import dev.gitops.core.internal.fs.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes the temp files of a compaction and forces each to disk, from several threads: a file
 * system commits concurrent fsyncs together, so 10,000 small files cost a fraction of what they
 * cost one after the other (the renames and the one fsync per directory follow in the caller).
 */
final class CompactionWriter {

  /** Threads for the fsyncs; they wait on the disk, not the CPU. */
  private static final int THREADS = 8;
  /** Below this many files the threads cost more than they save. */
  private static final int PARALLEL_FROM = 16;

  private CompactionWriter() {}

  /** Writes {@code contents.get(i)} to the new file {@code files.get(i)[0]} and forces it. */
  static void writeAndForce(List<Path[]> files, List<byte[]> contents) throws IOException {
    if (files.size() < PARALLEL_FROM) {
      for (int i = 0; i < files.size(); i++) {
        write(files.get(i)[0], contents.get(i));
      }
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(THREADS, files.size()), r -> {
      Thread t = new Thread(r, "gitops-store-compaction");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> done = new ArrayList<>(files.size());
      for (int i = 0; i < files.size(); i++) {
        Path f = files.get(i)[0];
        byte[] bytes = contents.get(i);
        done.add(pool.submit(() -> {
          try {
            write(f, bytes);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
      throw cause instanceof IOException io ? io : new IOException("writing a compacted file failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while compacting the journal", e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Owner-only permissions for a file created in the store (where the file system has them). */
  static FileAttribute<?>[] ownerOnly(Path file) {
    return DurableFiles.posix(file.getParent())
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DurableFiles.OWNER_FILE)}
        : new FileAttribute<?>[0];
  }

  private static void write(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, java.util.Set.<java.nio.file.OpenOption>of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), ownerOnly(file))) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }
}

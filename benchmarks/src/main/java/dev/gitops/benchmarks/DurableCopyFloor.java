package dev.gitops.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * B3's floor: the least a durable sync of a tree of files can cost on this disk. Copies every
 * regular file under a source directory (skipping {@code .git}) into a target directory the way a
 * crash-safe writer must: each file written to a temporary name, fsynced and renamed over its
 * final name, from several threads at once, then every target directory fsynced once. No parsing,
 * no diffing, no record keeping: what {@code gitops sync} does beyond this is the engine's cost.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.gitops.benchmarks.DurableCopyFloor SOURCE TARGET [threads, default 8] [--provider-layout]
 * </pre>
 *
 * <p>Prints the milliseconds taken and the number of files written. With {@code --provider-layout}
 * it writes the way the local-files provider lays a first sync out instead, to price that layout
 * against the floor: every temp file in one directory ({@code TARGET/.gitops/files/tmp}, so each
 * rename crosses directories) and, before each file, an ownership claim as a symbolic link in one
 * directory ({@code TARGET/.gitops/files/owners}), that directory fsynced once with the others.
 */
public final class DurableCopyFloor {

  private DurableCopyFloor() {}

  /** Entry point. */
  public static void main(String[] args) throws Exception {
    List<String> rest = new ArrayList<>(List.of(args));
    boolean providerLayout = rest.remove("--provider-layout");
    if (rest.size() < 2 || rest.size() > 3) {
      throw new IllegalArgumentException("want SOURCE TARGET [threads] [--provider-layout]");
    }
    Path source = Path.of(rest.get(0));
    Path target = Path.of(rest.get(1));
    int threads = rest.size() == 3 ? Integer.parseInt(rest.get(2)) : 8;
    long t0 = System.nanoTime();
    int files = copy(source, target, threads, providerLayout);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println(ms + " " + files);
  }

  /** Copies durably and returns the number of files written. */
  static int copy(Path source, Path target, int threads) throws Exception {
    return copy(source, target, threads, false);
  }

  /** {@link #copy(Path, Path, int)}, in the local-files provider's layout when {@code providerLayout}. */
  static int copy(Path source, Path target, int threads, boolean providerLayout) throws Exception {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(source)) {
      files = walk.filter(p -> !source.relativize(p).toString().startsWith(".git"))
          .filter(Files::isRegularFile).toList();
    }
    Set<Path> dirs = new LinkedHashSet<>();
    for (Path f : files) {
      Path dir = target.resolve(source.relativize(f)).getParent();
      if (dirs.add(dir)) {
        Files.createDirectories(dir);
      }
    }
    Path temps = target.resolve(".gitops/files/tmp");
    Path owners = target.resolve(".gitops/files/owners");
    if (providerLayout) {
      Files.createDirectories(temps);
      Files.createDirectories(owners);
      dirs.add(temps);
      dirs.add(owners);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> writes = new ArrayList<>(files.size());
      AtomicLong names = new AtomicLong();
      for (Path f : files) {
        Path to = target.resolve(source.relativize(f));
        if (providerLayout) {
          String claim = source.relativize(f).toString().replace('/', '~') + ".json";
          writes.add(pool.submit(() -> {
            symlink(owners.resolve(claim), "gitops-owner.cli");
            write(f, temps.resolve(Long.toString(names.incrementAndGet())), to);
          }));
        } else {
          writes.add(pool.submit(() -> write(f, to.resolveSibling(".tmp-" + to.getFileName()), to)));
        }
      }
      for (Future<?> w : writes) {
        w.get();
      }
      List<Future<?>> syncs = new ArrayList<>(dirs.size());
      for (Path d : dirs) {
        syncs.add(pool.submit(() -> fsync(d)));
      }
      for (Future<?> s : syncs) {
        s.get();
      }
    } finally {
      pool.shutdown();
    }
    return files.size();
  }

  private static void symlink(Path link, String text) {
    try {
      Files.createSymbolicLink(link, link.getFileSystem().getPath(text));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path from, Path tmp, Path to) {
    try {
      byte[] bytes = Files.readAllBytes(from);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(false);
      }
      try {
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the target file system cannot rename atomically: " + to, e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void fsync(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

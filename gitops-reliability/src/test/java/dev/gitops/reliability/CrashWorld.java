package dev.gitops.reliability;

import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import dev.gitops.core.apply.RetryPolicy;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.store.FileStateStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The crash scenario's world, shared by the test and the child JVM: a desired directory read as
 * the desired state (each file one resource of the local-files provider), a target directory,
 * and a {@link FileStateStore} in {@code <target>/.gitops}.
 */
final class CrashWorld {

  /** The store's directory inside a target. */
  static final String STORE = LocalFilesProvider.DEFAULT_STORE_DIR;

  private CrashWorld() {}

  /** The local-files provider of {@code target}, with {@code conf/*.json} merged field by field. */
  static LocalFilesProvider files(Path target) {
    return LocalFilesProvider.builder(target).structured("conf/*.json").build();
  }

  /** The desired state: every regular file under {@code desiredDir}, decoded by the provider's decoder. */
  static State desired(Path desiredDir, Provider provider, String revision) {
    Decoder decoder = provider.decoder().orElseThrow();
    List<Resource> resources = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : read(desiredDir).entrySet()) {
      resources.addAll(decoder.decode(new SourceFile(e.getKey(), "blob-" + e.getKey(), e.getValue(), revision)));
    }
    return State.of(revision, resources);
  }

  /** Options of the crash runs: one change at a time (so counting is reproducible), no retry waits. */
  static SyncOptions options() {
    return SyncOptions.builder().lockTimeout(Duration.ofSeconds(20)).execution(ExecutionOptions.defaults()
        .withParallelism(1).withRetry(RetryPolicy.none()).withWaitForHealth(false)).build();
  }

  /** A reconciler over {@code provider} (already wrapping the target) with the store at {@code <target>/.gitops}. */
  static Reconciler reconciler(Path target, Provider provider, State desired, FileStateStore.Options storeOptions) {
    return Reconciler.builder()
        .desiredState(desired)
        .provider(provider)
        .store(FileStateStore.open(target.resolve(STORE), storeOptions))
        .options(options())
        .build();
  }

  /** Every regular file under {@code dir} by relative path (with '/'), skipping {@code .gitops}. */
  static TreeMap<String, byte[]> read(Path dir) {
    TreeMap<String, byte[]> out = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path rel = dir.relativize(p);
        if (rel.toString().isEmpty() || rel.getName(0).toString().equals(STORE)) {
          continue;
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel.toString().replace('\\', '/'), Files.readAllBytes(p));
        } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel.toString().replace('\\', '/'), ("<not a regular file>").getBytes());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Replaces {@code to} with a copy of {@code from} (modes kept). */
  static void copyTree(Path from, Path to) {
    deleteTree(to);
    try {
      Files.walkFileTree(from, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
          Path copy = to.resolve(from.relativize(d).toString());
          Files.createDirectories(copy);
          if (Files.getFileStore(d).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(copy, Files.getPosixFilePermissions(d));
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
          Files.copy(f, to.resolve(from.relativize(f).toString()), StandardCopyOption.COPY_ATTRIBUTES,
              LinkOption.NOFOLLOW_LINKS);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes {@code dir} recursively if present. */
  static void deleteTree(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.toList());
      java.util.Collections.reverse(all);
      for (Path p : all) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code files} (relative path to text) under {@code dir}, replacing what was there. */
  static void writeTree(Path dir, Map<String, String> files) {
    deleteTree(dir);
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, String> e : files.entrySet()) {
        Path f = dir.resolve(e.getKey());
        Files.createDirectories(f.getParent());
        Files.writeString(f, e.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

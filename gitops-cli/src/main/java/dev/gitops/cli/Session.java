package dev.gitops.cli;

import dev.gitops.api.SyncListener;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.StateStore;
import dev.gitops.core.Reconciler;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.files.LocalFilesProvider;
import dev.gitops.core.source.GitSource;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.k8s.KubernetesProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/**
 * One command's reconciler over a Git source, the files or Kubernetes provider and a file state
 * store; closing it closes the provider and the store.
 */
final class Session implements AutoCloseable {

  private final Reconciler reconciler;
  private final StateStore store;
  private final String target;
  private final Path stateDir;
  private final AutoCloseable live;

  private Session(Reconciler reconciler, StateStore store, String target, Path stateDir, AutoCloseable live) {
    this.reconciler = reconciler;
    this.store = store;
    this.target = target;
    this.stateDir = stateDir;
    this.live = live;
  }

  /** Opens a session for {@code t} with {@code options} and {@code listeners}. */
  static Session open(TargetOptions t, SyncOptions options, List<SyncListener> listeners) {
    t.validate();
    Path stateDir = t.stateDir();
    try {
      // The store holds hashes of secret values: create its directory owner-only before the Git
      // cache below creates it with the default mode.
      if (!Files.isDirectory(stateDir)) {
        Files.createDirectories(stateDir.toAbsolutePath().getParent());
        try {
          Files.createDirectory(stateDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
          // Not a POSIX file system: the store applies what protection it can itself.
          Files.createDirectories(stateDir);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the state directory " + stateDir + " (--state): " + e.getMessage(), e);
    }
    GitSource.Builder source = GitSource.builder().url(repoUrl(t.repo)).cacheDir(stateDir.resolve("git-cache"));
    if (t.ref != null) {
      source.ref(t.ref);
    }
    if (t.path != null) {
      source.path(t.path);
    }
    dev.gitops.core.source.Credentials credentials = t.credentials();
    if (credentials != null) {
      source.credentials(credentials);
    }
    if (t.knownHosts != null) {
      source.knownHosts(t.knownHosts);
    }
    if (t.acceptUnknownHosts) {
      source.strictHostKeyChecking(false);
    }
    Provider provider;
    String target;
    if (t.kubernetes()) {
      KubernetesProvider.Builder k8s = KubernetesProvider.fromKubeconfig(t.kubeconfig, t.context);
      if (t.namespace != null) {
        k8s.defaultNamespace(t.namespace);
      }
      provider = k8s.build();
      target = "the cluster" + (t.context == null ? "" : " of context " + t.context);
    } else {
      LocalFilesProvider.Builder files = LocalFilesProvider.builder(t.targetDir()).id("files").exclude(stateDir);
      if (!t.structured.isEmpty()) {
        files.structured(t.structured.toArray(String[]::new));
      }
      provider = files.build();
      target = t.targetDir().toString();
    }
    StateStore store = FileStateStore.open(stateDir);
    try {
      Reconciler.Builder b = Reconciler.builder()
          .source(source.build())
          .provider(provider)
          .store(store)
          .owner(t.owner)
          .options(options);
      listeners.forEach(b::listener);
      return new Session(b.build(), store, target, stateDir, provider instanceof AutoCloseable c ? c : null);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** A local directory becomes an absolute path; anything else (a URL) is passed on as given. */
  static String repoUrl(String repo) {
    try {
      Path p = Path.of(repo);
      if (Files.isDirectory(p)) {
        return p.toAbsolutePath().normalize().toString();
      }
    } catch (InvalidPathException e) {
      // Not a path on this system (a URL such as https://...): passed on unchanged below.
    }
    return repo;
  }

  Reconciler reconciler() {
    return reconciler;
  }

  StateStore store() {
    return store;
  }

  /** What the live system is, for messages: the target directory or the cluster. */
  String target() {
    return target;
  }

  Path stateDir() {
    return stateDir;
  }

  @Override
  public void close() {
    try {
      if (live != null) {
        live.close();
      }
    } catch (Exception e) {
      // stopping the provider's watches failed: nothing is lost, the store still closes below
      org.slf4j.LoggerFactory.getLogger(Session.class).warn("closing the provider failed: {}", e.toString());
    } finally {
      store.close();
    }
  }
}

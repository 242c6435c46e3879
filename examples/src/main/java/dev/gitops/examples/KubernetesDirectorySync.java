package dev.gitops.examples;

import dev.gitops.api.Resource;
import dev.gitops.api.State;
import dev.gitops.api.SyncResult;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.Reconciler;
import dev.gitops.core.store.FileStateStore;
import dev.gitops.k8s.KubernetesProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Syncs a directory of Kubernetes manifests (not a Git repository: the files as they are) into
 * the cluster that {@code KUBECONFIG} names, keeping its state store in {@code <dir>/.gitops}.
 *
 * <pre class="language-shell">{@code
 * KUBECONFIG=~/.kube/config java -cp examples.jar:... dev.gitops.examples.KubernetesDirectorySync deploy/ shop
 * }</pre>
 *
 * <p>The revision is {@code dir@<digest of the files>}, so a history entry says which content was
 * applied. With Git, use {@code GitSource} instead, as in the README.
 */
public final class KubernetesDirectorySync {

  private KubernetesDirectorySync() {}

  /** Arguments: the directory, and the namespace of manifests that name none (optional). */
  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: KubernetesDirectorySync DIR [NAMESPACE]");
    }
    String kubeconfig = System.getenv("KUBECONFIG");
    KubernetesProvider.Builder b = KubernetesProvider.fromKubeconfig(kubeconfig == null ? null : Path.of(kubeconfig), null);
    if (args.length > 1) {
      b.defaultNamespace(args[1]);
    }
    try (KubernetesProvider k8s = b.build()) {
      SyncResult r = sync(Path.of(args[0]), k8s);
      System.out.println(r.status() + ": " + r.plan().summary());
    }
  }

  /** Reads every manifest under {@code dir} (skipping {@code .gitops}) and syncs it through {@code k8s}. */
  public static SyncResult sync(Path dir, KubernetesProvider k8s) throws IOException {
    Decoder decoder = k8s.decoder().orElseThrow();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(Files::isRegularFile).filter(p -> !dir.relativize(p).startsWith(".gitops"))
          .filter(p -> decoder.claims(dir.relativize(p).toString())).sorted().toList();
    }
    java.security.MessageDigest digest = dev.gitops.api.Documents.sha256();
    List<SourceFile> sources = new ArrayList<>();
    for (Path f : files) {
      byte[] bytes = Files.readAllBytes(f);
      String rel = dir.relativize(f).toString().replace('\\', '/');
      digest.update(rel.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      digest.update(bytes);
      sources.add(new SourceFile(rel, Integer.toHexString(java.util.Arrays.hashCode(bytes)), bytes, ""));
    }
    String revision = "dir@" + java.util.HexFormat.of().formatHex(digest.digest()).substring(0, 12);
    List<Resource> resources = new ArrayList<>();
    for (SourceFile f : sources) {
      resources.addAll(decoder.decode(new SourceFile(f.path(), f.blobId(), f.content(), revision)));
    }
    // the reconciler closes the store; the provider is the caller's, and stays open for its next sync
    try (Reconciler reconciler = Reconciler.builder().desiredState(State.of(revision, resources)).provider(k8s)
        .store(FileStateStore.open(dir.resolve(".gitops"))).build()) {
      return reconciler.sync();
    }
  }
}

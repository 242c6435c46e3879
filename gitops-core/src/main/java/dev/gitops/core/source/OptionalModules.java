package dev.gitops.core.source;

import dev.gitops.core.source.spi.CommitSignatures;
import dev.gitops.core.source.spi.SshConnector;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Finds the optional Git modules (SSH, commit signatures), so that their libraries — Apache MINA
 * sshd, BouncyCastle — are on the classpath only of applications that add them.
 */
final class OptionalModules {

  private OptionalModules() {}

  /** The SSH connector, or an error naming the artifact to add. */
  static SshConnector ssh(String url) {
    return find(SshConnector.class).orElseThrow(() -> new IllegalStateException("SSH remote " + url
        + " needs the SSH module: add the dependency " + SshConnector.ARTIFACT
        + " (the version of gitops-core) to the classpath"));
  }

  /** The commit signature checks, or an error naming the artifact to add. */
  static CommitSignatures signatures(String why) {
    return find(CommitSignatures.class).orElseThrow(() -> new IllegalStateException(why
        + " needs the commit signature module: add the dependency " + CommitSignatures.ARTIFACT
        + " (the version of gitops-core) to the classpath"));
  }

  private static <T> Optional<T> find(Class<T> type) {
    // the context class loader first (application servers, plugins), then the one that loaded core
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    Optional<T> found = context == null ? Optional.empty() : ServiceLoader.load(type, context).findFirst();
    return found.isPresent() ? found : ServiceLoader.load(type, type.getClassLoader()).findFirst();
  }
}

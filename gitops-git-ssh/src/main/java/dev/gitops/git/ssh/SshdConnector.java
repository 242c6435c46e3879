package dev.gitops.git.ssh;

import dev.gitops.core.source.spi.SshConnector;
import java.nio.file.Path;

/**
 * SSH for {@link dev.gitops.core.source.GitSource} over JGit's Apache MINA sshd client. Found by
 * {@code GitSource} through {@code META-INF/services}: applications add this module's artifact
 * ({@code dev.gitops:gitops-git-ssh}) and never call this class.
 *
 * <pre>{@code
 * GitSource overSsh = GitSource.builder()
 *     .url("git@git.example.com:ops/desired.git")            // this module makes the SSH connections
 *     .credentials(Credentials.sshKey(Path.of("/etc/gitops/id_ed25519")))
 *     .knownHosts(Path.of("/etc/gitops/known_hosts"))
 *     .build();
 * }</pre>
 */
public final class SshdConnector implements SshConnector {

  /** Called by {@link java.util.ServiceLoader}. */
  public SshdConnector() {}

  @Override
  public Client open(Path privateKey, char[] passphrase, Path knownHosts, boolean strictHostKeyChecking) {
    return SshSessions.create(privateKey, passphrase, knownHosts, strictHostKeyChecking);
  }
}

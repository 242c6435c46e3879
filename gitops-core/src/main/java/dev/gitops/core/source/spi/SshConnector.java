package dev.gitops.core.source.spi;

import java.nio.file.Path;
import java.util.Optional;
import org.eclipse.jgit.transport.Transport;

/**
 * SSH for {@link dev.gitops.core.source.GitSource}. The {@code gitops-git-ssh} module implements
 * it over Apache MINA sshd and registers it in {@code META-INF/services}; without that module on
 * the classpath, building a {@code GitSource} for an {@code ssh://} or {@code user@host:path} URL
 * fails with a message naming {@link #ARTIFACT}. Applications add the artifact, nothing else:
 *
 * <pre class="language-xml">{@code
 * <dependency>
 *   <groupId>dev.gitops</groupId>
 *   <artifactId>gitops-git-ssh</artifactId>
 * </dependency>
 * }</pre>
 */
public interface SshConnector {

  /** The Maven coordinates of the module that implements this interface, for error messages. */
  String ARTIFACT = "dev.gitops:gitops-git-ssh";

  /**
   * The SSH client of one source. The private key is loaded now, so that a missing file or a wrong
   * passphrase fails when the source is built rather than at its first read.
   *
   * @param privateKey the private key file, the only identity offered
   * @param passphrase the key's passphrase, or null for an unencrypted key; the implementation
   *     clears the array once the key is loaded
   * @param knownHosts the OpenSSH known_hosts file host keys are checked against, or null for none
   * @param strictHostKeyChecking whether a host missing from {@code knownHosts} is refused
   * @return the client, to be closed with the source
   * @throws dev.gitops.api.SourceException naming the key file (never its content nor the
   *     passphrase) when the key cannot be loaded
   */
  Client open(Path privateKey, char[] passphrase, Path knownHosts, boolean strictHostKeyChecking);

  /** The SSH client of one source: its own settings, never {@code ~/.ssh} nor an agent. */
  interface Client extends AutoCloseable {

    /**
     * Makes {@code transport} use this client when it is an SSH transport; other transports are
     * left alone.
     *
     * @param transport a transport JGit opened for the source's URL
     * @param homeDirectory a private directory the client may create and use as its home
     */
    void configure(Transport transport, Path homeDirectory);

    /**
     * Why the last host key was refused, if one was, for the error message; clears it.
     *
     * @return the reason, or empty when no host key was refused since the last call
     */
    Optional<String> takeHostKeyRejection();

    /** Releases the client's threads and sessions. */
    @Override
    void close();
  }
}

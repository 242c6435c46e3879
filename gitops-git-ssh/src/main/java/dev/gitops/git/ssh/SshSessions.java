package dev.gitops.git.ssh;

import dev.gitops.api.SourceException;
import dev.gitops.core.source.spi.SshConnector;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.eclipse.jgit.errors.TransportException;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.RemoteSession;
import org.eclipse.jgit.transport.SshSessionFactory;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;
import org.eclipse.jgit.util.FS;

/**
 * The SSH side of one {@link dev.gitops.core.source.GitSource}: its own JGit {@link
 * SshdSessionFactory} (never the global default, never {@code ~/.ssh}: its home and SSH
 * directories are a private, empty directory, so no {@code ~/.ssh/config}, default identity, agent
 * or user known_hosts file is consulted), with the key of {@link
 * dev.gitops.core.source.Credentials#sshKey} as the only identity, public key authentication only,
 * and host keys checked by {@link KnownHostsDatabase}.
 */
final class SshSessions implements SshConnector.Client {

  private final List<KeyPair> keys;
  private final KnownHostsDatabase hosts;
  private SshdSessionFactory factory;

  private SshSessions(List<KeyPair> keys, KnownHostsDatabase hosts) {
    this.keys = keys;
    this.hosts = hosts;
  }

  /**
   * Loads the private key now, so a missing file or a wrong passphrase fails when the source is
   * built.
   *
   * @throws SourceException naming the key file (never its content nor the passphrase)
   */
  static SshSessions create(Path privateKey, char[] passphrase, Path knownHosts, boolean strict) {
    return new SshSessions(loadKeys(privateKey, passphrase), new KnownHostsDatabase(knownHosts, strict));
  }

  private static List<KeyPair> loadKeys(Path file, char[] pass) {
    if (!Files.isRegularFile(file)) {
      if (pass != null) {
        java.util.Arrays.fill(pass, '\0');
      }
      throw new SourceException("SSH private key file " + file + " does not exist or is not a file");
    }
    String secret = pass == null ? "" : new String(pass);
    FilePasswordProvider passwords = pass == null ? FilePasswordProvider.EMPTY : FilePasswordProvider.of(new String(pass));
    List<KeyPair> pairs = new ArrayList<>();
    try (InputStream in = Files.newInputStream(file)) {
      Iterable<KeyPair> loaded = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in,
          passwords);
      if (loaded != null) {
        loaded.forEach(pairs::add);
      }
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      String why = String.valueOf(e.getMessage());
      if (!secret.isEmpty()) {
        why = why.replace(secret, "***");
      }
      // the cause is dropped: key loaders may quote what they read
      throw new SourceException("cannot load the SSH private key " + file + " ("
          + (pass == null ? "no passphrase given" : "with the passphrase given: wrong passphrase or damaged file")
          + "): "
          + e.getClass().getSimpleName() + ": " + why);
    } finally {
      if (pass != null) {
        java.util.Arrays.fill(pass, '\0');
      }
    }
    if (pairs.isEmpty()) {
      throw new SourceException("SSH private key file " + file + " holds no private key");
    }
    return List.copyOf(pairs);
  }

  @Override
  public Optional<String> takeHostKeyRejection() {
    return Optional.ofNullable(hosts.takeRejection());
  }

  @Override
  public synchronized void configure(Transport transport, Path homeDir) {
    if (transport instanceof SshTransport ssh) {
      ssh.setSshSessionFactory(new Bounded(homeDir));
    }
  }

  /**
   * The sessions of {@link #factory}, whose setting up (connection, key exchange, authentication)
   * ends at the transport's timeout: JGit bounds only the connection by it and waits for the rest
   * as long as MINA's authentication timeout (two minutes), so a server that accepts and never
   * speaks held a read that long whatever the timeout. When the timeout passes first, the waiting
   * thread is interrupted (MINA's waits end on it) and the factory, this source's alone, is closed
   * with whatever it was setting up; the next session gets a new one.
   */
  private final class Bounded extends SshSessionFactory {
    private final Path homeDir;

    Bounded(Path homeDir) {
      this.homeDir = homeDir;
    }

    @Override
    public RemoteSession getSession(URIish uri, CredentialsProvider credentials, FS fs, int tms)
        throws TransportException {
      SshdSessionFactory f;
      synchronized (SshSessions.this) {
        f = factory(homeDir);
      }
      Thread caller = Thread.currentThread();
      Object lock = new Object();
      boolean[] state = new boolean[2];  // [0]: done, [1]: expired
      if (tms > 0) {
        CompletableFuture.delayedExecutor(tms, TimeUnit.MILLISECONDS).execute(() -> {
          synchronized (lock) {
            if (state[0]) {
              return;
            }
            state[1] = true;
            caller.interrupt();
          }
          abandon(f);
        });
      }
      boolean expired;
      try {
        return f.getSession(unbracketed(uri), credentials, fs, tms);
      } catch (TransportException | RuntimeException e) {
        synchronized (lock) {
          expired = state[1];
        }
        if (expired) {
          throw new TransportException(uri, "timed out after " + tms + " ms setting up the SSH session (the server "
              + "accepted the connection but did not complete the SSH handshake)", e);
        }
        throw e;
      } finally {
        synchronized (lock) {
          state[0] = true;
          expired = state[1];
        }
        if (expired) {
          Thread.interrupted();  // the interrupt was ours, to end the wait: not the caller's cancellation
        }
      }
    }

    @Override
    public String getType() {
      return "gitops-sshd";
    }
  }

  /**
   * {@code uri} with an IPv6 literal host ({@code ssh://git@[::1]:2222/repo}, {@code git@[fd00::2]:repo})
   * given without its brackets, as MINA's host configuration reads a host: JGit passes {@code [::1]}
   * on as it is, which fails every such URL with "Invalid non-standard port value host pattern
   * enclosure delimiters" before anything connects. The host key is then looked up as OpenSSH
   * writes it, {@code ::1} or {@code [::1]:2222}.
   */
  static URIish unbracketed(URIish uri) {
    String host = uri.getHost();
    if (host != null && host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
      return uri.setHost(host.substring(1, host.length() - 1));
    }
    return uri;
  }

  /** Closes {@code f}, whose session set-up outlived its timeout, and forgets it if it is still ours. */
  private void abandon(SshdSessionFactory f) {
    synchronized (this) {
      if (factory == f) {
        factory = null;
      }
    }
    f.close();
  }

  private SshdSessionFactory factory(Path homeDir) {
    if (factory == null) {
      try {
        Files.createDirectories(homeDir);
        try {
          Files.setPosixFilePermissions(homeDir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: the directory stays empty anyway, nothing secret is written there
        }
      } catch (IOException e) {
        throw new SourceException("cannot create the private SSH directory " + homeDir + ": " + e.getMessage(), e);
      }
      factory = new SshdSessionFactoryBuilder()
          .setHomeDirectory(homeDir.toFile())
          .setSshDirectory(homeDir.toFile())
          .setConfigFile(dir -> homeDir.resolve("config").toFile())  // does not exist: OpenSSH defaults
          .setDefaultIdentities(dir -> List.of())
          .setDefaultKeysProvider(dir -> keys)
          .setDefaultKnownHostsFiles(dir -> List.of())
          .setServerKeyDatabase((home, sshDir) -> hosts)
          .setPreferredAuthentications("publickey")
          .setConnectorFactory(null)  // no SSH agent
          .build(null);
    }
    return factory;
  }

  @Override
  public synchronized void close() {
    if (factory != null) {
      factory.close();
      factory = null;
    }
  }
}

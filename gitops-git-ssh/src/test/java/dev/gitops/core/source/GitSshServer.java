package dev.gitops.core.source;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyEncryptionContext;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.transport.UploadPack;

/**
 * An Apache MINA sshd server on 127.0.0.1 (a free port) serving {@code git-upload-pack} for every
 * repository under a base directory with JGit's {@link UploadPack}, for tests. Public key
 * authentication only, for user {@code git} and the one authorised key; the host key is generated.
 *
 * <pre>{@code
 * KeyPair client = GitSshServer.newKeyPair();
 * try (GitSshServer ssh = GitSshServer.start(baseDir, client.getPublic())) {
 *   String url = ssh.url("repo");   // ssh://git@127.0.0.1:<port>/repo
 *   Files.writeString(knownHosts, ssh.knownHostsLine());
 * }
 * }</pre>
 */
public final class GitSshServer implements AutoCloseable {

  private final SshServer server;
  private final KeyPair hostKey;
  private final AtomicInteger authAttempts;
  private final AtomicInteger uploads;
  /** The address it listens on: {@code 127.0.0.1}, {@code ::1}. */
  private final String host;

  private GitSshServer(SshServer server, KeyPair hostKey, AtomicInteger authAttempts, AtomicInteger uploads,
      String host) {
    this.server = server;
    this.host = host;
    this.hostKey = hostKey;
    this.authAttempts = authAttempts;
    this.uploads = uploads;
  }

  /** A new ECDSA P-256 key pair. */
  public static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(256);
    return gen.generateKeyPair();
  }

  /** Writes {@code pair} as an OpenSSH private key file, encrypted when {@code passphrase} is not null. */
  public static Path writePrivateKey(KeyPair pair, Path file, String passphrase)
      throws IOException, GeneralSecurityException {
    Files.createDirectories(file.getParent());
    OpenSSHKeyEncryptionContext encryption = null;
    if (passphrase != null) {
      encryption = new OpenSSHKeyEncryptionContext();
      encryption.setCipherName("AES");
      encryption.setCipherType("256");
      encryption.setPassword(passphrase);
      encryption.setKdfRounds(4);  // small: tests only
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "test", encryption, out);
    }
    return file;
  }

  /** Starts a server for {@code basePath} letting user {@code git} in with {@code authorizedKey} only. */
  public static GitSshServer start(Path basePath, PublicKey authorizedKey) throws IOException, GeneralSecurityException {
    return start(basePath, authorizedKey, "127.0.0.1");
  }

  /** Starts a server as {@link #start(Path, PublicKey)} does, listening on {@code host} ({@code ::1}). */
  public static GitSshServer start(Path basePath, PublicKey authorizedKey, String host)
      throws IOException, GeneralSecurityException {
    Path base = basePath.toAbsolutePath().normalize();
    KeyPair hostKey = newKeyPair();
    AtomicInteger authAttempts = new AtomicInteger();
    AtomicInteger uploads = new AtomicInteger();
    SshServer server = SshServer.setUpDefaultServer();
    server.setHost(host);
    server.setPort(0);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    server.setPasswordAuthenticator(null);
    server.setKeyboardInteractiveAuthenticator(null);
    server.setPublickeyAuthenticator((user, key, session) -> {
      authAttempts.incrementAndGet();
      return "git".equals(user) && KeyUtils.compareKeys(authorizedKey, key);
    });
    server.setCommandFactory(uploadPack(base, uploads));
    server.start();
    return new GitSshServer(server, hostKey, authAttempts, uploads, host);
  }

  private static CommandFactory uploadPack(Path base, AtomicInteger uploads) {
    return (channel, command) -> {
      List<String> args = CommandFactory.split(command);
      if (args.size() != 2 || !args.get(0).equals("git-upload-pack")) {
        throw new IOException("only git-upload-pack is served, not: " + command);
      }
      Path dir = base.resolve(args.get(1).replaceFirst("^/+", "")).normalize();
      if (!dir.startsWith(base)) {
        throw new IOException("outside the base directory: " + args.get(1));
      }
      uploads.incrementAndGet();
      return new UploadPackCommand(dir);
    };
  }

  /** The port. */
  public int port() {
    return server.getPort();
  }

  /** The URL of repository {@code name} for user {@code git} ({@code ssh://git@[::1]:<port>/name} on IPv6). */
  public String url(String name) {
    return "ssh://git@" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/" + name;
  }

  /** The server's host key. */
  public PublicKey hostKey() {
    return hostKey.getPublic();
  }

  /** A known_hosts line for this server ({@code [127.0.0.1]:<port> <type> <base64>}, {@code [::1]:<port> ...}). */
  public String knownHostsLine() {
    return knownHostsLine(hostKey.getPublic());
  }

  /** A known_hosts line for this server's address and {@code key}. */
  public String knownHostsLine(PublicKey key) {
    return "[" + host + "]:" + port() + " " + PublicKeyEntry.toString(key) + "\n";
  }

  /** How many public keys clients offered. */
  public int authAttempts() {
    return authAttempts.get();
  }

  /** How many upload-pack commands ran. */
  public int uploads() {
    return uploads.get();
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }

  /** Runs JGit's upload-pack on one repository over the channel's streams, in its own thread. */
  private static final class UploadPackCommand implements Command {
    private final Path dir;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private Thread thread;

    UploadPackCommand(Path dir) {
      this.dir = dir;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
      String protocol = env.getEnv().get("GIT_PROTOCOL");
      thread = new Thread(() -> {
        int code = 0;
        String message = null;
        // a bare repository or a working tree's .git
        File gitDir = RepositoryCache.FileKey.resolve(dir.toFile(), FS.DETECTED);
        try (Repository repo = new FileRepositoryBuilder().setGitDir(gitDir).setMustExist(true).build()) {
          UploadPack up = new UploadPack(repo);
          up.setTimeout(20);
          if (protocol != null) {
            up.setExtraParameters(Arrays.asList(protocol.split(":")));
          }
          up.upload(in, out, err);
        } catch (IOException | RuntimeException e) {
          code = 1;
          message = e.toString();
        } finally {
          exit.onExit(code, message == null ? "" : message);
        }
      }, "test-upload-pack");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void destroy(ChannelSession channel) throws InterruptedException {
      if (thread != null && thread != Thread.currentThread()) {
        thread.interrupt();
        thread.join(5000);
      }
    }
  }
}

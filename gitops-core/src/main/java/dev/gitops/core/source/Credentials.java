package dev.gitops.core.source;

import java.nio.file.Path;
import java.util.Objects;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * Credentials for a Git remote: HTTP basic or token authentication for {@code https://} URLs, or
 * an SSH private key for {@code ssh://} and {@code user@host:path} URLs. The secret (password,
 * token, key passphrase) never appears in {@link #toString()} nor in the messages of errors the
 * source raises; the key file's content is never put in a message either.
 *
 * <pre>{@code
 * GitSource https = GitSource.builder().url("https://git.example.com/ops.git")
 *     .credentials(Credentials.token(System.getenv("GIT_TOKEN")))
 *     .build();
 * GitSource ssh = GitSource.builder().url("git@git.example.com:ops.git")
 *     .credentials(Credentials.sshKey(Path.of("/etc/gitops/id_ed25519")))
 *     .knownHosts(Path.of("/etc/gitops/known_hosts"))
 *     .build();
 * }</pre>
 */
public final class Credentials {

  private final String username;
  private final String secret;
  private final String kind;
  private final Path privateKey;
  private final char[] passphrase;

  private Credentials(String kind, String username, String secret, Path privateKey, char[] passphrase) {
    this.kind = kind;
    this.username = username;
    this.secret = secret;
    this.privateKey = privateKey;
    this.passphrase = passphrase;
  }

  /** HTTP basic authentication with {@code username} and {@code password}. */
  public static Credentials basic(String username, String password) {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    return new Credentials("basic", username, password, null, null);
  }

  /**
   * An access token, sent as the password of HTTP basic authentication with the user name {@code
   * x-access-token} (what GitHub expects; GitLab and Gitea accept any user name with a token).
   */
  public static Credentials token(String token) {
    Objects.requireNonNull(token, "token");
    return new Credentials("token", "x-access-token", token, null, null);
  }

  /**
   * An unencrypted SSH private key file (OpenSSH or PEM format: Ed25519, ECDSA or RSA) for SSH
   * public key authentication. The user name is the URL's ({@code git} in {@code
   * git@host:path}). The file is read when the source is built. SSH needs the {@code
   * dev.gitops:gitops-git-ssh} module on the classpath.
   */
  public static Credentials sshKey(Path privateKey) {
    Objects.requireNonNull(privateKey, "privateKey");
    return new Credentials("ssh-key", null, "", privateKey, null);
  }

  /**
   * An SSH private key file encrypted with {@code passphrase}. The array is copied; the caller may
   * clear its own copy afterwards.
   */
  public static Credentials sshKey(Path privateKey, char[] passphrase) {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(passphrase, "passphrase");
    return new Credentials("ssh-key", null, new String(passphrase), privateKey, passphrase.clone());
  }

  /** The user name sent, or null for an SSH key (the URL names the user). */
  public String username() {
    return username;
  }

  /** Whether these are SSH key credentials. */
  public boolean isSshKey() {
    return privateKey != null;
  }

  /** The SSH private key file, or null for HTTP credentials. */
  public Path privateKey() {
    return privateKey;
  }

  /** The secret, for scrubbing it from error messages ("" when there is none). */
  String secret() {
    return secret;
  }

  /** A copy of the SSH key passphrase, or null when the key is not encrypted. */
  char[] passphrase() {
    return passphrase == null ? null : passphrase.clone();
  }

  /** The HTTP credentials provider, or null for SSH key credentials. */
  CredentialsProvider toProvider() {
    return isSshKey() ? null : new UsernamePasswordCredentialsProvider(username, secret);
  }

  @Override
  public String toString() {
    return isSshKey()
        ? "Credentials[" + kind + ", key=" + privateKey + (passphrase == null ? "" : ", passphrase=***") + "]"
        : "Credentials[" + kind + ", user=" + username + ", secret=***]";
  }
}

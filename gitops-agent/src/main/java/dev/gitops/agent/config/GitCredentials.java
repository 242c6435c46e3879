package dev.gitops.agent.config;

import dev.gitops.api.internal.Sha256;
import dev.gitops.core.source.Credentials;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A target's Git credentials as configured: an HTTPS token, HTTPS basic (user and password), or an
 * SSH key (with an optional passphrase). Secrets are references, resolved when the target starts.
 *
 * <pre class="language-yaml">{@code
 * credentials:                        # under a target's source in agent.yaml: one of three forms
 *   token: {env: GIT_TOKEN}           # an HTTPS token
 *   # username: deploy                # or HTTPS basic: username and password
 *   # password: {file: /run/secrets/git-password}
 *   # sshKey: /etc/gitops/id_ed25519  # or an SSH key, its passphrase optional
 *   # passphrase: {env: SSH_PASSPHRASE}
 * }</pre>
 *
 * @param token an HTTPS access token, or null
 * @param username the HTTPS user, or null
 * @param password the HTTPS password (with {@code username}), or null
 * @param sshKey an SSH private key file, or null
 * @param passphrase the SSH key's passphrase, or null
 * @param sshKeyDigest the SHA-256 (hex) of the SSH key file's content when the configuration was
 *     read, or null (no {@code sshKey}, or a file that could not be read then): a reload compares
 *     it, as it compares the values of the other secrets, so that a key replaced in its file
 *     restarts the target, which reads the key when it starts
 */
public record GitCredentials(SecretRef token, String username, SecretRef password, Path sshKey, SecretRef passphrase,
    String sshKeyDigest) {

  /** Credentials without a digest of the SSH key's content (a reload tells no replaced key by them). */
  public GitCredentials(SecretRef token, String username, SecretRef password, Path sshKey, SecretRef passphrase) {
    this(token, username, password, sshKey, passphrase, null);
  }

  static Optional<GitCredentials> read(ConfigNode c) {
    if (c.isAbsent()) {
      return Optional.empty();
    }
    c.allowOnly("token", "username", "password", "sshKey", "passphrase");
    GitCredentials g = new GitCredentials(c.secret("token").orElse(null), c.optionalString("username").orElse(null),
        c.secret("password").orElse(null), c.optionalPath("sshKey").orElse(null), c.secret("passphrase").orElse(null));
    if (g.sshKey != null) {
      g = new GitCredentials(g.token, g.username, g.password, g.sshKey, g.passphrase, digest(g.sshKey));
    }
    int kinds = (g.token != null ? 1 : 0) + (g.username != null || g.password != null ? 1 : 0) + (g.sshKey != null ? 1 : 0);
    if (kinds != 1) {
      throw c.error("give one of: token, username with password, or sshKey (with an optional passphrase)");
    }
    if ((g.username == null) != (g.password == null)) {
      throw c.error("username and password go together");
    }
    if (g.passphrase != null && g.sshKey == null) {
      throw c.get("passphrase").error("a passphrase goes with sshKey");
    }
    return Optional.of(g);
  }

  /**
   * The credentials for {@code GitSource}, secrets read from {@code environment} or their files. A
   * token or password goes into an HTTP header, so it is one line ({@link SecretRef#resolveLine}: a
   * line break at its end, as {@code echo tok | base64} leaves in a Kubernetes secret, is dropped).
   */
  public Credentials resolve(Map<String, String> environment) {
    if (token != null) {
      return Credentials.token(token.resolveLine(environment));
    }
    if (username != null) {
      return Credentials.basic(username, password.resolveLine(environment));
    }
    return passphrase == null ? Credentials.sshKey(sshKey)
        : Credentials.sshKey(sshKey, passphrase.resolve(environment).toCharArray());
  }

  /** Whether {@code a} and {@code b} (either may be null) last read the same secret values. */
  static boolean sameSecrets(GitCredentials a, GitCredentials b) {
    if (a == null || b == null) {
      return a == b;
    }
    return SecretRef.sameValue(a.token, b.token) && SecretRef.sameValue(a.password, b.password)
        && SecretRef.sameValue(a.passphrase, b.passphrase) && Objects.equals(a.sshKeyDigest, b.sshKeyDigest);
  }

  /**
   * The SHA-256 (hex) of the key file's content, or null when it is no regular file or cannot be
   * read: a strict load refuses such a file at its line ({@code AgentConfig}'s file checks), and
   * a load that is not strict ({@code gitops status}) starts no target, so needs no digest. A FIFO
   * or a device is never read (it could block the load).
   */
  private static String digest(Path key) {
    if (!Files.isRegularFile(key)) {
      return null;
    }
    try (InputStream in = Files.newInputStream(key)) {
      return Sha256.hex(in);
    } catch (IOException e) {
      return null;  // not readable: the strict file checks say so at the sshKey line (see above)
    }
  }

  /** Resolves every secret once, so a missing one fails the configuration instead of the target. */
  void check(Map<String, String> environment) {
    resolve(environment);
  }
}

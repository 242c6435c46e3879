package dev.gitops.core.source;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.eclipse.jgit.errors.UnsupportedCredentialItem;
import org.eclipse.jgit.transport.CredentialItem;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.TransportHttp;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credentials for a Git remote: HTTP basic or token authentication for {@code https://} URLs, or
 * an SSH private key for {@code ssh://} and {@code user@host:path} URLs. The secret (password,
 * token, key passphrase) never appears in {@link #toString()} nor in the messages of errors the
 * source raises; the key file's content is never put in a message either.
 *
 * <p>HTTP credentials are given only to the origin (scheme, host and port) of the repository URL
 * they were configured for, as git keeps credentials per URL: when the server redirects to another
 * origin, the request there carries none (and fails there if that server asks for them).
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

  private static final Logger LOG = LoggerFactory.getLogger(Credentials.class);

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

  /**
   * The HTTP credentials provider for the repository at {@code origin}, or null for SSH key
   * credentials. It answers only for URLs of the same scheme, host and port as {@code origin}: a
   * redirect to another origin gets no credentials.
   */
  CredentialsProvider toProvider(URIish origin) {
    if (isSshKey()) {
      return null;
    }
    return boundTo(origin, new UsernamePasswordCredentialsProvider(username, secret));
  }

  /**
   * For JGit commands of callers outside the Git source (image automation's write-back): a
   * callback that binds {@code provider} (null: none) to the origin of {@code url} (its scheme,
   * host and port) and keeps JGit from resending an {@code Authorization} header to another origin
   * after a redirect, as the Git source does for its own transports.
   *
   * <pre>{@code
   * String url = "https://git.example.com/ops.git";
   * org.eclipse.jgit.transport.CredentialsProvider token =
   *     new org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider("x-access-token", System.getenv("GIT_TOKEN"));
   * org.eclipse.jgit.api.Git.lsRemoteRepository().setRemote(url)
   *     .setTransportConfigCallback(Credentials.originBound(url, token)).call();
   * }</pre>
   *
   * @throws IllegalArgumentException when {@code url} is not a Git URL
   */
  public static TransportConfigCallback originBound(String url, CredentialsProvider provider) {
    URIish uri;
    try {
      uri = new URIish(Objects.requireNonNull(url, "url"));
    } catch (java.net.URISyntaxException e) {
      // the exception's message quotes the whole text, password and all: not passed on
      String shown = dev.gitops.core.internal.git.GitUrls.withoutPassword(url);
      throw new IllegalArgumentException("not a Git URL: " + shown, new java.net.URISyntaxException(shown, e.getReason()));
    }
    CredentialsProvider bound = provider == null ? null : boundTo(uri, provider);
    return tn -> bind(tn, bound, uri);
  }

  /** Gives {@code tn} {@code provider} (already bound to {@code repository}'s origin) and the same-origin header rule. */
  static void bind(Transport tn, CredentialsProvider provider, URIish repository) {
    if (provider != null) {
      tn.setCredentialsProvider(provider);
    }
    if (tn instanceof TransportHttp http) {
      // JGit sends the authentication it once answered again after a redirect, to any host
      http.setHttpConnectionFactory(new SameOriginAuthorization(http.getHttpConnectionFactory(), repository));
    }
  }

  /** {@code inner}, answering only for URLs of {@code origin}'s scheme, host and port. */
  private static CredentialsProvider boundTo(URIish origin, CredentialsProvider inner) {
    String allowed = origin(origin);
    return new CredentialsProvider() {
      @Override
      public boolean isInteractive() {
        return false;
      }

      @Override
      public boolean supports(CredentialItem... items) {
        return inner.supports(items);
      }

      @Override
      public boolean get(URIish uri, CredentialItem... items) throws UnsupportedCredentialItem {
        if (!allowed.equals(origin(uri))) {
          LOG.warn("credentials for {} are not given to {}, another origin (redirected there?)", allowed, origin(uri));
          return false;
        }
        return inner.get(uri, items);
      }

      @Override
      public void reset(URIish uri) {
        inner.reset(uri);
      }
    };
  }

  /** The scheme, host and port of {@code uri}, the port made explicit ({@code https://h:443}). */
  static String origin(URIish uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    int port = uri.getPort() > 0 ? uri.getPort() : switch (scheme) {
      case "http" -> 80;
      case "https" -> 443;
      default -> -1;
    };
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    return scheme + "://" + host + ":" + port;
  }

  @Override
  public String toString() {
    return isSshKey()
        ? "Credentials[" + kind + ", key=" + privateKey + (passphrase == null ? "" : ", passphrase=***") + "]"
        : "Credentials[" + kind + ", user=" + username + ", secret=***]";
  }
}

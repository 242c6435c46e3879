package dev.gitops.core.source;

import java.util.Objects;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * Credentials for an HTTPS Git remote. The secret never appears in {@link #toString()} nor in the
 * messages of errors the source raises.
 *
 * <pre>{@code
 * GitSource.builder().url("https://git.example.com/ops.git").credentials(Credentials.token(System.getenv("GIT_TOKEN")))
 * }</pre>
 */
public final class Credentials {

  private final String username;
  private final String secret;
  private final String kind;

  private Credentials(String kind, String username, String secret) {
    this.kind = kind;
    this.username = username;
    this.secret = secret;
  }

  /** HTTP basic authentication with {@code username} and {@code password}. */
  public static Credentials basic(String username, String password) {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    return new Credentials("basic", username, password);
  }

  /**
   * An access token, sent as the password of HTTP basic authentication with the user name {@code
   * x-access-token} (what GitHub expects; GitLab and Gitea accept any user name with a token).
   */
  public static Credentials token(String token) {
    Objects.requireNonNull(token, "token");
    return new Credentials("token", "x-access-token", token);
  }

  /** The user name sent. */
  public String username() {
    return username;
  }

  /** The secret, for scrubbing it from error messages. */
  String secret() {
    return secret;
  }

  CredentialsProvider toProvider() {
    return new UsernamePasswordCredentialsProvider(username, secret);
  }

  @Override
  public String toString() {
    return "Credentials[" + kind + ", user=" + username + ", secret=***]";
  }
}

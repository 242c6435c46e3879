package dev.gitops.agent.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * Where a secret is: an environment variable or a file (a mounted secret). The configuration holds
 * only the reference; {@link #resolve} reads the value when the file loads, when a target or notifier
 * starts, and at every reload, which restarts what uses a secret whose value changed. Its {@code toString}
 * names the reference, never the value.
 *
 * <pre class="language-yaml">{@code
 * token: {env: GIT_TOKEN}                 # in agent.yaml
 * password: {file: /run/secrets/git}      # the file's content, without a trailing newline
 * }</pre>
 */
public final class SecretRef {

  private final boolean env;
  private final String name;
  private final Path path;
  private final ConfigNode at;
  /**
   * The SHA-256 of the value last read through this reference (never the value itself), or null
   * before the first read: a reload compares it with the running configuration's to tell a secret
   * changed in its file.
   */
  private volatile byte[] lastRead;

  private SecretRef(boolean env, String name, Path path, ConfigNode at) {
    this.env = env;
    this.name = name;
    this.path = path;
    this.at = at;
  }

  static SecretRef env(String variable, ConfigNode at) {
    return new SecretRef(true, variable, null, at);
  }

  static SecretRef file(Path file, ConfigNode at) {
    return new SecretRef(false, null, file, at);
  }

  /**
   * The secret's value, read from {@code environment} or the file.
   *
   * @throws ConfigException naming the configuration line when the variable is unset or empty,
   *     or the file cannot be read or is empty
   */
  public String resolve(Map<String, String> environment) {
    if (env) {
      String v = environment.get(name);
      if (v == null) {
        throw at.error("the environment variable " + name + " is not set");
      }
      if (v.isEmpty()) {
        throw at.error("the environment variable " + name + " is set but empty");
      }
      return read(v);
    }
    String v;
    try {
      v = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw at.error("cannot read the secret file " + path + ": it does not exist");
    } catch (AccessDeniedException e) {
      throw at.error("cannot read the secret file " + path + ": permission denied");
    } catch (IOException e) {
      // the message may not name the cause (a directory's reads fail with "Is a directory" only)
      throw at.error("cannot read the secret file " + path + ": " + (e.getMessage() == null
          ? e.getClass().getSimpleName() : e.getMessage()));
    }
    // A file written with echo or an editor ends with a newline that is not part of the secret.
    v = v.endsWith("\r\n") ? v.substring(0, v.length() - 2) : v.endsWith("\n") ? v.substring(0, v.length() - 1) : v;
    if (v.isEmpty()) {
      throw at.error("the secret file " + path + " is empty");
    }
    return read(v);
  }

  private String read(String value) {
    lastRead = dev.gitops.api.Documents.sha256().digest(value.getBytes(StandardCharsets.UTF_8));
    return value;
  }

  /**
   * Whether {@code a} and {@code b} (either may be null) last read the same value, as far as each
   * was read: what a reload asks of the running configuration's references and the new one's.
   */
  static boolean sameValue(SecretRef a, SecretRef b) {
    return a == null || b == null ? a == b : Arrays.equals(a.lastRead, b.lastRead);
  }

  /**
   * The secret's value as one line, for a secret sent in a header or used as a signing key (a
   * forge's token, a webhook's secret): one line break at its end ({@code \n}, {@code \r\n} or
   * {@code \r}, what {@code echo tok | base64} into a Kubernetes secret, a file saved with CRLF or
   * {@code $'tok\n'} leaves) is dropped, from a variable as from a file; any other control
   * character is refused.
   *
   * @throws ConfigException naming the configuration line and key, and where in the value the
   *     character is, never the value; or as {@link #resolve} does
   */
  public String resolveLine(Map<String, String> environment) {
    String v = resolve(environment);
    // resolve dropped a file's \n or \r\n already: only a lone \r is left to drop there
    if (env && v.endsWith("\r\n")) {
      v = v.substring(0, v.length() - 2);
    } else if (env && v.endsWith("\n") || v.endsWith("\r")) {
      v = v.substring(0, v.length() - 1);
    }
    if (v.isEmpty()) {
      throw at.error((env ? "the environment variable " + name : "the secret file " + path)
          + " holds only a line break");
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (Character.isISOControl(c)) {
        throw at.error((env ? "the environment variable " + name : "the secret file " + path)
            + " holds a control character (" + (c == '\n' ? "a line feed" : c == '\r' ? "a carriage return"
                : c == '\t' ? "a tab" : String.format("U+%04X", (int) c)) + ") at character " + (i + 1) + " of "
            + v.length() + " (after one line break at its end is dropped): this secret must be one line");
      }
    }
    return v;
  }

  /** An error at this reference's line naming where the value came from: {@code problem} is about the value. */
  ConfigException error(String problem) {
    return at.error((env ? "the environment variable " + name : "the secret file " + path) + ": " + problem);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecretRef s && s.env == env && Objects.equals(s.name, name) && Objects.equals(s.path, path);
  }

  @Override
  public int hashCode() {
    return Objects.hash(env, name, path);
  }

  @Override
  public String toString() {
    return env ? "{env: " + name + "}" : "{file: " + path + "}";
  }
}

package dev.gitops.core.internal.git;

import java.net.URISyntaxException;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.transport.URIish;

/**
 * Repository URLs as messages show them: never with a secret, also when the URL does not parse the
 * way it was meant (a password holding an unencoded {@code /} makes JGit read the whole text as a
 * path without a host). A password is shown as {@code ***}; so is the user name of an HTTP(S) (or
 * any other non-SSH) URL that carries no password, since that is where a token goes ({@code
 * https://TOKEN@host/...}, as GitHub and GitLab document), and a user name that looks like a token
 * (20 characters or more, or a known token prefix such as {@code ghp_} or {@code glpat-}). SSH user
 * names ({@code git@host:path}) are names, and shown. The values of a query ({@code
 * ?private_token=...}) are shown as {@code ***} too, their names kept.
 *
 * <pre>{@code
 * import dev.gitops.core.internal.git.GitUrls;
 *
 * GitUrls.display("https://bot:s3cret@git.example.com/ops.git");   // https://bot:***@git.example.com/ops.git
 * GitUrls.display("https://ghp_abc123@github.com/ops.git");        // https://***@github.com/ops.git
 * GitUrls.scrub("https://ghp_abc123@github.com/ops.git: not authorized", url);   // https://***@github.com/...
 * Exception e = new java.io.IOException("https://ghp_abc123@github.com/ops.git: not found");
 * throw new IllegalStateException(GitUrls.scrub(e.getMessage(), url), GitUrls.scrubbed(e, url));  // chain too
 * }</pre>
 */
public final class GitUrls {

  /** How a hidden user name or password is shown. */
  public static final String MASK = "***";

  /** Prefixes of well-known access tokens (GitHub, GitLab, Bitbucket, Azure DevOps, Hugging Face). */
  private static final Pattern TOKEN_PREFIX = Pattern.compile(
      "(?i)(gh[pousr]_|github_pat_|glpat-|gldt-|glrt-|glptt-|gloas-|atatt|ataTT|hf_).*");

  /**
   * Characters that may stand next to a user name inside a longer word, where it is not masked; a
   * dot only between two of them (as in {@code git.example.com}), not as a sentence's full stop.
   */
  private static final String WORD = "A-Za-z0-9_~%+-";

  private GitUrls() {}

  /**
   * {@code url} without its secrets: as JGit reads it when it finds a host there (the password, and
   * a user name that may be a token, shown as {@code ***}), else {@link #withoutPassword}.
   */
  public static String display(String url) {
    try {
      URIish u = new URIish(url);
      if (u.getHost() != null && !u.getHost().isEmpty()) {
        return display(u);
      }
    } catch (URISyntaxException e) {
      // not a URL JGit reads: masked as text below
    }
    return withoutQueryValues(withoutPassword(url));
  }

  /** {@code uri} as {@link #display(String)} shows it. */
  public static String display(URIish uri) {
    return withoutQueryValues(displayUserInfo(uri));
  }

  private static String displayUserInfo(URIish uri) {
    String user = uri.getUser();
    boolean pass = uri.getPass() != null;
    if (user == null && !pass) {
      return uri.toString();
    }
    String bare = uri.setUser(null).setPass(null).toString();
    int start = bare.indexOf("://");
    boolean hideUser = hidesUser(uri.getScheme(), user, uri.getPass());
    String shownUser = hideUser || user == null ? MASK : escapedUser(uri);
    String info = shownUser + (pass && !hideUser ? ":" + MASK : "") + "@";
    if (start < 0) {
      return info + bare;  // scp-like: user@host:path
    }
    return bare.substring(0, start + 3) + info + bare.substring(start + 3);
  }

  /** The user name of {@code uri} written as {@link URIish#toString()} writes it (escaped). */
  private static String escapedUser(URIish uri) {
    String withUser = uri.setPass(null).toString();
    int start = withUser.indexOf("://");
    int from = start < 0 ? 0 : start + 3;
    int at = withUser.indexOf('@', from);
    return at < 0 ? MASK : withUser.substring(from, at);
  }

  /**
   * Whether a URL of {@code scheme} hides its user name {@code user}: on a URL that is not SSH, when
   * there is no password (the user name is then the token) or the user name looks like a token.
   *
   * <pre>{@code
   * GitUrls.hidesUser("https", "x-access-token", "s3cret");   // false: a name, the password is the secret
   * GitUrls.hidesUser("https", "ghp_abc123", null);           // true
   * }</pre>
   */
  public static boolean hidesUser(String scheme, String user, String pass) {
    if (user == null || user.isEmpty()) {
      return false;
    }
    if (looksLikeToken(user)) {
      return true;
    }
    boolean ssh = scheme == null || scheme.toLowerCase(Locale.ROOT).contains("ssh");
    return !ssh && (pass == null || pass.isEmpty());
  }

  /**
   * {@code url} with the value of each query parameter shown as {@code ***} ({@code
   * ?private_token=***&ref=***}): a query is where a token goes when it is not in the user info.
   */
  static String withoutQueryValues(String url) {
    int query = queryStart(url);
    if (query < 0) {
      return url;
    }
    int end = url.indexOf('#', query);
    end = end < 0 ? url.length() : end;
    StringBuilder sb = new StringBuilder(url.length()).append(url, 0, query + 1);
    String[] params = url.substring(query + 1, end).split("&", -1);
    for (int i = 0; i < params.length; i++) {
      int eq = params[i].indexOf('=');
      sb.append(i == 0 ? "" : "&").append(eq < 0 ? params[i] : params[i].substring(0, eq + 1)
          + (eq + 1 == params[i].length() ? "" : MASK));
    }
    return sb.append(url, end, url.length()).toString();
  }

  /** Where the query of {@code url} starts (its {@code ?}, after the scheme's {@code ://}), or -1. */
  private static int queryStart(String url) {
    int start = url.indexOf("://");
    return url.indexOf('?', start < 0 ? 0 : start + 3);
  }

  /** The values of {@code url}'s query, as written and decoded. */
  private static Set<String> queryValues(String url) {
    Set<String> out = new LinkedHashSet<>();
    int query = queryStart(url);
    if (query < 0) {
      return out;
    }
    int end = url.indexOf('#', query);
    for (String param : url.substring(query + 1, end < 0 ? url.length() : end).split("&")) {
      int eq = param.indexOf('=');
      if (eq >= 0 && eq + 1 < param.length()) {
        String value = param.substring(eq + 1);
        out.add(value);
        try {
          out.add(java.net.URLDecoder.decode(value, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          // not percent-encoded text: masked as written only
        }
      }
    }
    return out;
  }

  /** Whether {@code user} looks like an access token rather than a name. */
  static boolean looksLikeToken(String user) {
    return user.length() >= 20 || TOKEN_PREFIX.matcher(user).matches();
  }

  /**
   * {@code text} with the secrets of a {@code scheme://user:password@host} URL replaced by {@code
   * ***}, for messages about a URL that may not parse: everything from the first {@code :} after
   * {@code ://} to the last {@code @} is hidden (more than the password when the path holds an
   * {@code @}, never less); a user name without a password on a URL that is not SSH, or one that
   * looks like a token, is hidden too.
   */
  public static String withoutPassword(String text) {
    int start = text.indexOf("://");
    if (start < 0) {
      return text;
    }
    String scheme = text.substring(0, start).strip();
    start += 3;
    int at = text.lastIndexOf('@');
    if (at < start) {
      return text;
    }
    int colon = text.indexOf(':', start);
    boolean hasPass = colon >= 0 && colon < at;
    String user = text.substring(start, hasPass ? colon : at);
    String pass = hasPass ? text.substring(colon + 1, at) : null;
    if (hidesUser(scheme, user, pass)) {
      return text.substring(0, start) + MASK + text.substring(at);
    }
    return hasPass ? text.substring(0, colon + 1) + MASK + text.substring(at) : text;
  }

  /**
   * {@code text} (a message, perhaps from JGit, about the repository at {@code url}) with every
   * secret of {@code url} replaced by {@code ***}: its password, and a user name {@link #display}
   * hides, decoded or percent-encoded, so that {@code https://TOKEN@host} in a transport error shows
   * {@code https://***@host}. A secret of 8 characters or more is masked wherever it appears; a
   * shorter one where it stands as a word of its own.
   */
  public static String scrub(String text, String url) {
    if (text == null || url == null) {
      return text;
    }
    String m = text;
    Secrets s = secrets(url);
    for (String secret : s.passwords()) {
      m = mask(m, secret);
    }
    for (String secret : s.users()) {
      m = mask(m, secret);
    }
    return m;
  }

  /**
   * {@code text} as {@link #scrub(String, String)} leaves it, and with each of {@code secrets} (a
   * password or token given apart from the URL, which JGit or a server may still quote) replaced by
   * {@code ***} wherever it appears, however short: unlike a user name, a password is never shown,
   * even where masking a short one inside other words makes the message hard to read (a word
   * boundary would let it through at a sentence's end or inside an encoded form); empty ones are
   * ignored.
   *
   * <pre>{@code
   * GitUrls.scrub("bad credentials s3cr3t-pw", "https://bot@host/r.git", List.of("s3cr3t-pw"));  // bad credentials ***
   * }</pre>
   */
  public static String scrub(String text, String url, Collection<String> secrets) {
    if (text == null) {
      return null;
    }
    String m = text;
    for (String secret : secrets) {
      if (secret != null && !secret.isEmpty()) {
        m = m.replace(secret, MASK);
      }
    }
    return scrub(m, url);
  }

  /**
   * {@code text} with {@code secret} replaced by {@code ***}: everywhere when it is long (a token,
   * a real password), else only where it stands as a word of its own, so that a short user name or
   * password ({@code git}, {@code x}) does not mask every word it is part of; a full stop after it
   * ends its word ({@code read git.}), a dot between word characters does not ({@code git.example.com}).
   */
  private static String mask(String text, String secret) {
    if (secret.length() >= LONG_SECRET) {
      return text.replace(secret, MASK);
    }
    return Pattern.compile("(?<![" + WORD + "])(?<![" + WORD + "]\\.)" + Pattern.quote(secret) + "(?![" + WORD
        + "])(?!\\.[" + WORD + "])").matcher(text)
        .replaceAll(Matcher.quoteReplacement(MASK));
  }

  /** A secret this long is masked wherever it appears, even inside a longer word. */
  private static final int LONG_SECRET = 8;

  /**
   * {@code t} with every secret of {@code url} (as {@link #scrub} finds them) out of every message of
   * its cause chain and of what it suppressed: {@code t} itself when none holds one, else a copy
   * whose links each read {@code <original type>: <scrubbed message>} and keep the original's stack
   * trace, so that a stack trace ({@code --verbose}) still shows where it failed. Use it as the
   * cause of an exception whose own message is built from {@code display}ed URLs and {@link #scrub}bed
   * text.
   *
   * <pre>{@code
   * try (org.eclipse.jgit.api.Git git = org.eclipse.jgit.api.Git.open(repository.toFile())) {
   *   git.push().setRemote(url).call();
   * } catch (java.io.IOException | org.eclipse.jgit.api.errors.GitAPIException e) {
   *   throw new IllegalStateException(GitUrls.display(url) + ": push failed: " + GitUrls.scrub(e.getMessage(), url),
   *       GitUrls.scrubbed(e, url));
   * }
   * }</pre>
   */
  public static Throwable scrubbed(Throwable t, String url) {
    return scrubbed(t, m -> scrub(m, url));
  }

  /**
   * {@code t}, or a copy of its chain with every message passed through {@code scrub}, as {@link
   * #scrubbed(Throwable, String)}: for a caller that hides more than the URL's secrets (a password
   * given apart from the URL). {@code scrub} must leave text without a secret unchanged.
   */
  public static Throwable scrubbed(Throwable t, UnaryOperator<String> scrub) {
    if (t == null || !leaks(t, scrub, Collections.newSetFromMap(new IdentityHashMap<>()))) {
      return t;
    }
    return ScrubbedException.copy(t, scrub, new IdentityHashMap<>(), 0);
  }

  /**
   * Whether a message (or the text printed for it) of {@code t}, its causes or what they suppressed,
   * changes under {@code scrub}; a chain longer than the copy keeps counts as one that does (the
   * copy cuts it, so nothing beyond is shown).
   */
  private static boolean leaks(Throwable t, UnaryOperator<String> scrub, Set<Throwable> seen) {
    if (t == null || !seen.add(t)) {
      return false;
    }
    if (seen.size() > ScrubbedException.MOST_LINKS) {
      return true;
    }
    for (String text : new String[] {t.getMessage(), t.toString()}) {
      if (text != null && !text.equals(scrub.apply(text))) {
        return true;
      }
    }
    for (Throwable s : t.getSuppressed()) {
      if (leaks(s, scrub, seen)) {
        return true;
      }
    }
    return leaks(t.getCause(), scrub, seen);
  }

  /** A link of a copied chain: the original's type name and its message scrubbed, with its stack trace. */
  private static final class ScrubbedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** How many links are copied at most (a very long chain is cut there; a cycle is cut where it closes). */
    static final int MOST_LINKS = 64;

    private ScrubbedException(String message) {
      super(message);  // the cause is set by copy(), once
    }

    static Throwable copy(Throwable t, UnaryOperator<String> scrub, IdentityHashMap<Throwable, Throwable> copies,
        int depth) {
      if (t == null || copies.containsKey(t) || copies.size() >= MOST_LINKS || depth > MOST_LINKS) {
        return null;
      }
      // toString(): "<type>: <message>" as the original prints itself, also when it overrides how
      ScrubbedException s = new ScrubbedException(scrub.apply(t.toString()));
      copies.put(t, s);
      s.setStackTrace(t.getStackTrace());
      Throwable cause = copy(t.getCause(), scrub, copies, depth + 1);
      if (cause != null) {
        s.initCause(cause);
      }
      for (Throwable suppressed : t.getSuppressed()) {
        Throwable c = copy(suppressed, scrub, copies, depth + 1);
        if (c != null) {
          s.addSuppressed(c);
        }
      }
      return s;
    }

    @Override
    public String toString() {
      return getMessage();  // "<original type>: <scrubbed message>", as the original would print
    }
  }

  /** Whether {@code text} holds a secret of {@code url} (as {@link #scrub} would replace it). */
  public static boolean leaks(String text, String url) {
    return text != null && !scrub(text, url).equals(text);
  }

  /** The spellings of {@code url}'s secrets: passwords, and user names {@link #display} hides. */
  private record Secrets(Set<String> passwords, Set<String> users) {}

  private static Secrets secrets(String url) {
    Set<String> passwords = new LinkedHashSet<>();
    Set<String> users = new LinkedHashSet<>();
    String scheme = null;
    String user = null;
    String pass = null;
    try {
      URIish u = new URIish(url);
      if (u.getHost() != null && !u.getHost().isEmpty()) {
        scheme = u.getScheme();
        user = u.getUser();
        pass = u.getPass();
        if (pass != null && !pass.isEmpty()) {
          passwords.add(pass);
          String escaped = u.setUser("u").toPrivateString();
          int colon = escaped.indexOf("u:");
          int at = escaped.indexOf('@', colon);
          if (colon >= 0 && at > colon) {
            passwords.add(escaped.substring(colon + 2, at));
          }
        }
        if (hidesUser(scheme, user, pass)) {
          users.add(user);
          String shown = u.setPass(null).toString();
          int start = shown.indexOf("://");
          int from = start < 0 ? 0 : start + 3;
          int at = shown.indexOf('@', from);
          if (at > from) {
            users.add(shown.substring(from, at));
          }
        }
      }
    } catch (URISyntaxException e) {
      // not a URL JGit reads: the text's own user info below
    }
    // the user info as written (percent-encoded or not)
    int start = url.indexOf("://");
    int at = url.lastIndexOf('@');
    if (start >= 0 && at > start + 3) {
      String info = url.substring(start + 3, at);
      int colon = info.indexOf(':');
      String rawUser = colon < 0 ? info : info.substring(0, colon);
      String rawPass = colon < 0 ? null : info.substring(colon + 1);
      if (rawPass != null && !rawPass.isEmpty()) {
        passwords.add(rawPass);
      }
      if (hidesUser(scheme != null ? scheme : url.substring(0, start).strip(), rawUser, rawPass)
          || (user != null && users.contains(user))) {
        users.add(rawUser);
      }
    }
    passwords.addAll(queryValues(url));
    users.removeIf(String::isEmpty);
    passwords.removeIf(String::isEmpty);
    return new Secrets(passwords, users);
  }
}

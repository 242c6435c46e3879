package dev.gitops.core.internal.git;

import java.net.URISyntaxException;
import org.eclipse.jgit.transport.URIish;

/**
 * Repository URLs as messages show them: never with a password, also when the URL does not parse
 * the way it was meant (a password holding an unencoded {@code /} makes JGit read the whole text as
 * a path without a host).
 *
 * <pre>{@code
 * import dev.gitops.core.internal.git.GitUrls;
 *
 * String shown = GitUrls.display("https://bot:s3cret@git.example.com/ops.git");  // https://bot@git.example.com/ops.git
 * }</pre>
 */
public final class GitUrls {

  private GitUrls() {}

  /**
   * {@code url} without its password: as JGit reads it when it finds a host there, else {@link
   * #withoutPassword}.
   */
  public static String display(String url) {
    try {
      URIish u = new URIish(url);
      if (u.getHost() != null && !u.getHost().isEmpty()) {
        return u.setPass(null).toString();
      }
    } catch (URISyntaxException e) {
      // not a URL JGit reads: masked as text below
    }
    return withoutPassword(url);
  }

  /**
   * {@code text} with the password of a {@code scheme://user:password@host} URL replaced by
   * {@code ***}, for messages about a URL that may not parse: everything from the first {@code :}
   * after {@code ://} to the last {@code @} is hidden (more than the password when the path holds
   * an {@code @}, never less).
   */
  public static String withoutPassword(String text) {
    int start = text.indexOf("://");
    if (start < 0) {
      return text;
    }
    start += 3;
    int at = text.lastIndexOf('@');
    int colon = text.indexOf(':', start);
    return at < 0 || colon < 0 || colon > at ? text : text.substring(0, colon + 1) + "***" + text.substring(at);
  }
}

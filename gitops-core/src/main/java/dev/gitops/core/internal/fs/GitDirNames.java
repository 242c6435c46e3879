package dev.gitops.core.internal.fs;

import java.util.Locale;

/**
 * Path segments that name a Git directory ({@code .git}) on some file system, as git's own {@code
 * verify_path} refuses them: a tree entry so named, written into a target that is a Git work tree,
 * would be its repository (hooks, config) and run code. Covered: {@code .git} in any case; NTFS
 * spellings of it (trailing dots and spaces, an alternate data stream after {@code :}, the 8.3
 * short name {@code git~1}); HFS+ spellings (Unicode characters HFS+ ignores inside the name).
 * {@link #sameOnSomeFileSystem} compares any two names the same way (the files provider's
 * {@code .gitops} and excluded directories).
 */
public final class GitDirNames {

  private GitDirNames() {}

  /** Whether {@code segment} (one path component) names a Git directory on some file system. */
  public static boolean isGitDir(String segment) {
    String n = fold(segment);
    return n.equals(".git") || n.equals("git~1");
  }

  /**
   * Whether the path components {@code a} and {@code b} name the same entry on some file system:
   * compared ignoring case, the characters HFS+ ignores, an NTFS alternate data stream after
   * {@code :} and NTFS's trailing dots and spaces, as {@link #isGitDir} compares with {@code .git}.
   * So {@code .GITOPS}, {@code .gitops.} and {@code .gitops} with a U+200C inside are {@code .gitops}
   * on macOS or Windows.
   *
   * <pre>{@code
   * GitDirNames.sameOnSomeFileSystem(".GitOps", ".gitops");   // true
   * }</pre>
   */
  public static boolean sameOnSomeFileSystem(String a, String b) {
    if (a.equals(b)) {
      return true;
    }
    // folding only drops characters: a name shorter than the other's folded form is another name,
    // told without folding it (the files provider asks this of every key's segments at each sync)
    String folded = fold(b);
    return a.length() >= folded.length() && fold(a).equals(folded);
  }

  /**
   * {@code segment} as a file system that ignores case, the characters HFS+ ignores, an NTFS
   * alternate data stream after {@code :} and NTFS's trailing dots and spaces compares it.
   */
  private static String fold(String segment) {
    StringBuilder sb = new StringBuilder(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (!hfsIgnored(c)) {
        sb.append(c);
      }
    }
    String n = sb.toString().toLowerCase(Locale.ROOT);
    int colon = n.indexOf(':');
    if (colon >= 0) {
      n = n.substring(0, colon);  // NTFS: "name:stream" names the file "name"
    }
    int end = n.length();
    while (end > 0 && (n.charAt(end - 1) == '.' || n.charAt(end - 1) == ' ')) {
      end--;  // NTFS drops trailing dots and spaces
    }
    return n.substring(0, end);
  }

  /** The first segment of the {@code /}-separated {@code path} that names a Git directory, or null. */
  public static String gitDirSegment(String path) {
    for (String seg : path.split("/", -1)) {
      if (isGitDir(seg)) {
        return seg;
      }
    }
    return null;
  }

  /** The code points HFS+ leaves out when it compares names (git's {@code is_hfs_dotgit} list). */
  private static boolean hfsIgnored(char c) {
    return (c >= '\u200c' && c <= '\u200f') || (c >= '\u202a' && c <= '\u202e') || (c >= '\u206a' && c <= '\u206f')
        || c == '\ufeff';
  }
}

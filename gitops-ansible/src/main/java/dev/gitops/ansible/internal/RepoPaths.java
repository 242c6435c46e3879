package dev.gitops.ansible.internal;

/** Paths inside the source, always with '/', relative to its root ("" is the root). */
public final class RepoPaths {

  private RepoPaths() {}

  /** {@code path} without "./" in front, without a trailing '/', and "" for "." (the root). */
  public static String normalize(String path) {
    String p = path.replace('\\', '/');
    while (p.startsWith("./")) {
      p = p.substring(2);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p.equals(".") ? "" : p;
  }

  /** The directory of {@code path} ("" at the root). */
  public static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }
}

package dev.gitops.ansible.internal;

/**
 * A problem in an inventory file at a line; the parser turns it into a {@code DecodeException}
 * naming the file, the line and the revision.
 */
public final class InventoryProblem extends RuntimeException {

  private final String path;
  private final int line;

  /** A problem at {@code line} (1-based; 0 when the line is not known) of the file being read. */
  public InventoryProblem(int line, String message) {
    this(null, line, message);
  }

  /** A problem at {@code line} of the file at {@code path}. */
  public InventoryProblem(String path, int line, String message) {
    super(message);
    this.path = path;
    this.line = line;
  }

  /** The file, or null when it is the file being read. */
  public String path() {
    return path;
  }

  /** The 1-based line, or 0. */
  public int line() {
    return line;
  }

  /** This problem placed at {@code newLine} unless it already has a line. */
  public InventoryProblem at(int newLine) {
    return line > 0 || newLine <= 0 ? this : new InventoryProblem(path, newLine, getMessage());
  }
}

package dev.gitops.images.marker;

import dev.gitops.api.GitOpsException;

/**
 * A marked file cannot be read or edited: not UTF-8, not YAML, or a marker on a scalar that cannot
 * take a value. The message names the file and line.
 *
 * <pre>{@code
 * try {
 *   MarkedYaml yaml = MarkedYaml.parse("apps/web.yaml", bytes);
 *   yaml.problems().forEach(p -> log.warn(p.getMessage()));   // markers that cannot be used; the rest work
 * } catch (MarkerException e) {
 *   log.warn("{} skipped: {}", e.file(), e.getMessage());     // not UTF-8, or not YAML
 * }
 * }</pre>
 */
public class MarkerException extends GitOpsException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;

  /** An error at {@code file}:{@code line} (line 0: the whole file). */
  public MarkerException(String file, int line, String message, Throwable cause) {
    super(file + (line > 0 ? ":" + line : "") + ": " + message, cause);
    this.file = file;
    this.line = line;
  }

  /** The file's path in the repository. */
  public String file() {
    return file;
  }

  /** The 1-based line, or 0 for the whole file. */
  public int line() {
    return line;
  }
}

package dev.gitops.agent.config;

import dev.gitops.api.GitOpsException;
import java.nio.file.Path;

/**
 * The agent's configuration is invalid. The message reads {@code <file>:<line>: <field>: <what is
 * wrong>}; the whole file is rejected and, on a reload, the running configuration stays.
 *
 * <pre>{@code
 * try {
 *   AgentConfig config = AgentConfig.load(Path.of("agent.yaml"), factories, System.getenv(), true);
 * } catch (ConfigException e) {
 *   log.error("{}", e.getMessage());   // "agent.yaml:14: targets[1].interval: must be a positive duration ..."
 * }
 * }</pre>
 */
public class ConfigException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final transient Path file;
  private final int line;

  /** {@code problem} at {@code line} (0: the file as a whole) of {@code file}. */
  public ConfigException(Path file, int line, String problem) {
    super(where(file, line) + problem);
    this.file = file;
    this.line = line;
  }

  /** Same, with the exception that revealed it. */
  public ConfigException(Path file, int line, String problem, Throwable cause) {
    super(where(file, line) + problem, cause);
    this.file = file;
    this.line = line;
  }

  /** {@code <file>:<line>: }, an empty path shown as {@code agent configuration ""} (it would read as nothing). */
  private static String where(Path file, int line) {
    String name = file != null && file.toString().isEmpty() ? "agent configuration \"\"" : String.valueOf(file);
    return name + (line > 0 ? ":" + line : "") + ": ";
  }

  /** The configuration file. */
  public Path file() {
    return file;
  }

  /** The line at fault (from 1), or 0 when the file as a whole is. */
  public int line() {
    return line;
  }
}

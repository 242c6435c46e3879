package dev.gitops.agent;

import dev.gitops.api.GitOpsException;
import java.nio.file.Path;

/**
 * Another agent runs on this agent's state directory: it holds {@code <stateDir>/agent.lock}.
 * Two agents on one state directory would both run every target, each undoing the other, so the
 * second refuses to start (agents that share targets run with a cluster placement instead).
 *
 * <pre>{@code
 * try {
 *   agent.start();
 * } catch (StateDirectoryInUseException e) {
 *   log.error("{} (held by pid {})", e.getMessage(), e.holderPid().orElse("unknown"));
 * }
 * }</pre>
 */
public class StateDirectoryInUseException extends GitOpsException {
  private static final long serialVersionUID = 1L;
  private final transient Path directory;
  private final String holderPid;

  /** {@code directory} is held by the process {@code holderPid} (null: not known). */
  public StateDirectoryInUseException(Path directory, String holderPid) {
    super("the state directory " + directory + " is in use by another agent"
        + (holderPid == null ? "" : " (pid " + holderPid + ")") + ": two agents on one state directory would both"
        + " run every target; stop that one, or give this one another agent.stateDir (agents that share their"
        + " targets run with --cluster)");
    this.directory = directory;
    this.holderPid = holderPid;
  }

  /** The state directory. */
  public Path directory() {
    return directory;
  }

  /** The pid of the agent holding it, when its lock file says. */
  public java.util.Optional<String> holderPid() {
    return java.util.Optional.ofNullable(holderPid);
  }
}

package dev.gitops.cli;

import dev.gitops.agent.config.AgentConfig;
import dev.gitops.agent.config.ConfigNode;
import dev.gitops.core.SyncOptions;
import dev.gitops.core.apply.ExecutionOptions;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The provider call and whole-sync timeouts (shared by plan, sync, diff and rollback), as the agent's {@code
 * callTimeout} and {@code syncTimeout} per target: an Ansible run or a Terraform apply can take
 * longer than the engine's defaults.
 */
final class TimeoutOptions {

  /** How long one provider call may take, or null for the engine's default. */
  @Option(names = "--call-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long one provider call may take (an Ansible run, a Kubernetes request, a Terraform plan "
          + "or apply), at least 1s: 30s, 5m, 1h or PT30S (default: 2m). A call still running then is cancelled and its "
          + "resources are UNKNOWN.")
  Duration callTimeout;

  /** How long applying a plan may take, or null for the engine's default. */
  @Option(names = "--sync-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long applying the plan may take, in all (default: 30m); then the sync is cancelled. "
          + "Taken by plan and diff too, where nothing is applied, so that one set of flags serves both.")
  Duration syncTimeout;

  /** {@code base} with these flags applied. */
  SyncOptions applyTo(SyncOptions base) {
    ExecutionOptions e = base.execution();
    if (callTimeout != null) {
      e = e.withCallTimeout(callTimeout);
    }
    if (syncTimeout != null) {
      e = e.withSyncTimeout(syncTimeout);
    }
    return e == base.execution() ? base : base.toBuilder().execution(e).build();
  }

  /**
   * picocli's hook for the timeout flags: its message is printed as the one-line usage error, after
   * the flag's name. A timeout is at least {@link AgentConfig#MIN_TIMEOUT}, as the agent's are: one
   * of {@code 1ms} (a slip for {@code 1m}) would fail every call or read it bounds.
   */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d = ConfigNode.parseDuration(value).orElseThrow(() -> new CommandLine.TypeConversionException(
          "'" + value + "' is not a positive duration such as 30s, 5m, 1h or PT30S (at most 36500d)"));
      if (d.compareTo(AgentConfig.MIN_TIMEOUT) < 0) {
        throw new CommandLine.TypeConversionException("'" + value + "' is shorter than "
            + AgentConfig.MIN_TIMEOUT.toSeconds() + "s, the shortest timeout taken: it would fail every call or read"
            + " it bounds (1ms for 1m?)");
      }
      return d;
    }
  }
}

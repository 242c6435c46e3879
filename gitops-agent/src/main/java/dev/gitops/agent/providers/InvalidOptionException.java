package dev.gitops.agent.providers;

import java.util.Objects;

/**
 * A provider option that cannot work, naming the option as the configuration spells it ({@code
 * inventoryOut}); the agent turns it into an error at the option's line, the command line into one
 * naming the flag ({@code --inventory-out}).
 *
 * <pre>{@code
 * try {
 *   KubernetesProviderFactory.check(kubeconfig, context, namespace);
 * } catch (InvalidOptionException e) {
 *   throw options.get(e.option()).error(e.getMessage());
 * }
 * }</pre>
 */
public final class InvalidOptionException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String option;

  /** An error about {@code option}. */
  public InvalidOptionException(String option, String message) {
    super(message);
    this.option = Objects.requireNonNull(option, "option");
  }

  /** An error about {@code option} caused by {@code cause}. */
  public InvalidOptionException(String option, String message, Throwable cause) {
    super(message, cause);
    this.option = Objects.requireNonNull(option, "option");
  }

  /** The option at fault, as the configuration spells it (camel case: {@code inventoryOut}). */
  public String option() {
    return option;
  }

  /** The option as a command-line flag: {@code inventoryOut} is {@code --inventory-out}. */
  public String flag() {
    return "--" + option.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
  }
}

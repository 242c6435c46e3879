package dev.gitops.terraform;

import dev.gitops.api.ResourceKey;

/**
 * A progress message of a Terraform run, from its machine-readable UI: {@code apply_start},
 * {@code apply_progress}, {@code apply_complete}, {@code apply_errored} for each resource
 * address, {@code planned_change}, {@code refresh_start}, {@code diagnostic} and the like. Messages
 * never hold sensitive values: Terraform redacts them and the provider scrubs what it knows to be
 * secret.
 *
 * <pre>{@code
 * TerraformProvider.builder(workDir)
 *     .listener(e -> log.info("{} {} {}", e.type(), e.address(), e.message()))
 *     .build();
 * }</pre>
 *
 * @param type the UI message type ({@code apply_complete}, ...)
 * @param command the command it came from ({@code plan}, {@code apply})
 * @param address the resource address it is about, or ""
 * @param key the resource key of that address, or null when it has none
 * @param action the action it reports ({@code create}, {@code update}, ...), or ""
 * @param elapsedSeconds seconds since the resource's operation started (0 when not reported)
 * @param message Terraform's one-line message; a {@code diagnostic}'s is its summary followed by
 *     the first line of its detail ({@code Warning: Check block assertion failed: ...})
 * @param level Terraform's level of the message: {@code error}, {@code warn}, {@code info} or
 *     {@code trace}; a warning {@code diagnostic} is what Terraform's own output shows as a warning
 */
public record TerraformEvent(String type, String command, String address, ResourceKey key, String action,
    double elapsedSeconds, String message, String level) {

  /** An event of level {@code info}: the record as it was before it carried the level. */
  public TerraformEvent(String type, String command, String address, ResourceKey key, String action,
      double elapsedSeconds, String message) {
    this(type, command, address, key, action, elapsedSeconds, message, "info");
  }

  /** Whether this is a warning Terraform reported about the configuration or the run. */
  public boolean isWarning() {
    return type.equals("diagnostic") && level.equals("warn");
  }
}

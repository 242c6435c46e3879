package dev.gitops.terraform.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A JVM that runs one long command through {@link CommandRunner}, for {@link CommandRunnerTest}
 * to end with a signal: {@code <script> <directory>}.
 */
public final class ShutdownProbe {
  private ShutdownProbe() {}

  public static void main(String[] args) {
    Path dir = Path.of(args[1]);
    new CommandRunner().run(new CommandRunner.Command(List.of("bash", args[0]), dir, Map.of(), Duration.ofMinutes(5),
        () -> false, null, Duration.ofSeconds(20), dir));
  }
}

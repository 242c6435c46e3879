package dev.gitops.agent;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.files.LocalFilesProvider;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code files} provider type: a directory kept in line with the repository.
 *
 * <pre>{@code
 * provider:
 *   type: files
 *   directory: /srv/web            # required; relative paths start at the configuration file
 *   structured: ["**}{@code /*.json"]   # merged field by field instead of as whole text
 *   sensitive: ["secrets/**"]       # secret values: GLOB or GLOB:POINTER, as gitops --sensitive
 * }</pre>
 *
 * <p>The target's store and the agent's state directory are excluded when they lie inside the
 * directory.
 */
public final class FilesProviderFactory implements ProviderFactory {

  @Override
  public String type() {
    return "files";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "directory", "structured", "sensitive");
    Path directory = options.path("directory");
    List<String> structured = options.strings("structured");
    List<String> sensitive = options.strings("sensitive");
    // Built once now so that a bad glob or rule fails the configuration, at its line.
    build(options, directory, structured, sensitive, target);
    return Setup.of("files", () -> build(options, directory, structured, sensitive, target));
  }

  private static LocalFilesProvider build(ConfigNode options, Path directory, List<String> structured,
      List<String> sensitive, TargetContext target) {
    LocalFilesProvider.Builder b = LocalFilesProvider.builder(directory).id("files").exclude(target.store());
    if (target.stateDir().startsWith(directory)) {
      b.exclude(target.stateDir());
    }
    try {
      if (!structured.isEmpty()) {
        b.structured(structured.toArray(String[]::new));
      }
    } catch (IllegalArgumentException e) {
      throw options.get("structured").error(e.getMessage());
    }
    for (String rule : sensitive) {
      try {
        b.sensitive(rule);
      } catch (IllegalArgumentException e) {
        throw options.get("sensitive").error(e.getMessage());
      }
    }
    return b.build();
  }
}

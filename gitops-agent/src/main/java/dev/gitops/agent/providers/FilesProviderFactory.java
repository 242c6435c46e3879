package dev.gitops.agent.providers;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.files.LocalFilesProvider;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code files} provider type: a directory kept in line with the repository.
 *
 * <pre class="language-yaml">{@code
 * provider:
 *   type: files
 *   directory: /srv/web            # required; relative paths start at the configuration file
 *   structured: ["**}{@code /*.json"]   # merged field by field instead of as whole text
 *   sensitive: ["secrets/**"]       # secret values: GLOB or GLOB:POINTER, as gitops --sensitive
 * }</pre>
 *
 * <p>The target's store and the agent's state directory are excluded (never reconciled) when they
 * lie inside the directory. A directory that is the agent's state directory or lies inside it is
 * refused at its line (links followed): the syncs would write Git's files among the agent's
 * stores, Git caches and status files. {@link #provider} is also what {@code gitops sync
 * --provider files} runs.
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
    String inRepository = LocalRepository.conflict(target.source(), target.sourcePath(), directory);
    if (inRepository != null) {
      throw options.get("directory").error(directory + " " + inRepository);
    }
    String onState = stateDirectoryConflict(directory, target.stateDir());
    if (onState != null) {
      throw options.get("directory").error(directory + " " + onState);
    }
    List<String> structured = options.strings("structured");
    List<String> sensitive = options.strings("sensitive");
    List<Path> excluded = new java.util.ArrayList<>(List.of(target.store()));
    if (LocalRepository.real(target.stateDir()).startsWith(LocalRepository.real(directory))) {
      excluded.add(target.stateDir());  // a directory that holds the state directory never touches it
    }
    // Built once now so that a bad glob or rule fails the configuration, at its line.
    try {
      provider(directory, excluded, structured, sensitive, false);
    } catch (InvalidOptionException e) {
      throw options.get(e.option()).error(e.getMessage());
    } catch (IllegalArgumentException e) {
      // the directory itself: inside the target's own store, or one whose real path cannot be read
      throw options.get("directory").error(e.getMessage());
    }
    // one target per directory: two would undo each other's writes, and each prune the other's files
    return Setup.of("files", () -> provider(directory, excluded, structured, sensitive, false),
        List.of(directory.toAbsolutePath().normalize()));
  }

  /**
   * Why {@code directory} cannot be a target's directory beside the agent's {@code stateDir} (to
   * follow the directory in a message), or null: the same directory or one inside it, links
   * followed: the syncs would write Git's files among the agent's own (stores, Git caches, status
   * files, its lock). A directory that holds the state directory is fine: the state directory is
   * excluded from it.
   */
  static String stateDirectoryConflict(Path directory, Path stateDir) {
    Path to = LocalRepository.real(directory);
    Path state = LocalRepository.real(stateDir);
    if (!to.startsWith(state)) {
      return null;
    }
    String how = to.equals(state) ? "is" : "is inside";
    return how + " the agent's state directory " + stateDir + ": the target's syncs would write Git's files among"
        + " the agent's stores, Git caches and status files; choose a directory apart from it, or move the state"
        + " directory with agent.stateDir";
  }

  /**
   * The files provider (id {@code files}) of {@code directory}, never touching {@code excluded}.
   *
   * @param structured globs of files merged field by field
   * @param sensitive secret values, {@code GLOB} or {@code GLOB:POINTER}
   * @param preview whether the provider serves a command that only shows a plan ({@link LocalFilesProvider.Builder#preview})
   * @throws InvalidOptionException naming {@code structured} or {@code sensitive} when a glob or rule is malformed
   */
  public static LocalFilesProvider provider(Path directory, List<Path> excluded, List<String> structured,
      List<String> sensitive, boolean preview) {
    LocalFilesProvider.Builder b = LocalFilesProvider.builder(directory).id("files").preview(preview);
    excluded.forEach(b::exclude);
    try {
      if (!structured.isEmpty()) {
        b.structured(structured.toArray(String[]::new));
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidOptionException("structured", e.getMessage(), e);
    }
    for (String rule : sensitive) {
      try {
        b.sensitive(rule);
      } catch (IllegalArgumentException e) {
        throw new InvalidOptionException("sensitive", e.getMessage(), e);
      }
    }
    return b.build();
  }
}

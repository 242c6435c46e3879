package dev.gitops.agent;

import dev.gitops.agent.config.ConfigNode;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.api.Change;
import dev.gitops.api.Outcome;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.testkit.ForwardingProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code latched-files} provider type for crash tests of {@code gitops run}: the files provider,
 * except that the first time it is asked to apply the file {@code blockOn} it writes that file (and
 * the rest of its batch), then creates the {@code latch} file and blocks, ignoring cancellation. The
 * engine recorded the batch as pending before the call, so a test that waits for the latch and
 * kills the process with -9 knows the kill lands mid-sync, with changes written but not recorded.
 * When the latch file exists already (the process was restarted) it blocks no more.
 *
 * <pre>
 * provider: {type: latched-files, directory: live, blockOn: conf/new-5.conf, latch: latch}
 * </pre>
 */
public final class LatchedFilesProviderFactory implements ProviderFactory {

  /** How long it blocks at most, so that a test that never kills it still ends. */
  private static final Duration BLOCK = Duration.ofMinutes(3);

  @Override
  public String type() {
    return "latched-files";
  }

  @Override
  public Setup configure(ConfigNode options, TargetContext target) {
    options.allowOnly("type", "directory", "blockOn", "latch");
    Path directory = options.path("directory");
    String blockOn = options.string("blockOn");
    Path latch = options.path("latch");
    return Setup.of("files", () -> new ForwardingProvider(
        FilesProviderFactory.provider(directory, List.of(target.store()), List.of(), List.of(), false)) {
      @Override
      public Outcome apply(Change change, CallContext ctx) {
        return applyAll(List.of(change), ctx).get(change.key());
      }

      @Override
      public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
        List<Change> blocking = changes.stream().filter(c -> c.key().name().equals(blockOn)).toList();
        if (blocking.isEmpty() || Files.exists(latch)) {
          return changes.size() == 1 ? Map.of(changes.get(0).key(), super.apply(changes.get(0), ctx))
              : super.applyAll(changes, ctx);
        }
        Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
        List<Change> rest = new ArrayList<>(changes);
        rest.removeAll(blocking);
        if (!rest.isEmpty()) {
          out.putAll(super.applyAll(rest, ctx));
        }
        out.put(blocking.get(0).key(), super.apply(blocking.get(0), ctx));
        try {
          Files.writeString(latch, "inside apply of " + blockOn + "\n");
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        long end = System.nanoTime() + BLOCK.toNanos();
        while (System.nanoTime() < end) {
          try {
            Thread.sleep(50);
          } catch (InterruptedException e) {
            // A provider stuck in a call: it does not stop when asked (the test kills the process).
          }
        }
        return out;
      }
    });
  }
}

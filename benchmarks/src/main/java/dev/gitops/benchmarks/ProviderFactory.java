package dev.gitops.benchmarks;

import dev.gitops.api.spi.Provider;
import java.nio.file.Path;

/**
 * The plug-in point of the {@link ScaleHarness}: how to make a fresh, empty live system and what
 * one resource's manifest looks like. A provider adds its row by implementing this and naming the
 * class with {@code --provider fully.qualified.ClassName} (it needs a public no-argument
 * constructor), for example a Kubernetes provider against a test cluster:
 *
 * <pre>{@code
 * public final class KubernetesFactory implements ProviderFactory {
 *   public String name() { return "k8s"; }
 *   public Provider create(Path scratch) { return KubernetesProvider.builder().namespace("bench").build(); }
 *   public String document(int index, int generation) {
 *     return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-" + index + "\ndata:\n  gen: \"" + generation + "\"\n";
 *   }
 * }
 * }</pre>
 *
 * <p>The provider must decode the documents itself ({@link Provider#decoder()}); the harness only
 * writes {@link #documentsPerFile()} documents per file, separated by {@code ---}.
 */
public interface ProviderFactory {

  /** The row label, e.g. {@code mem}. */
  String name();

  /** A fresh provider over an empty live system; {@code scratch} is an empty directory it may use. */
  Provider create(Path scratch) throws Exception;

  /**
   * The YAML text of resource {@code index} (about 1 KB); a higher {@code generation} must change
   * its content (the harness bumps it to make commits that change files).
   */
  String document(int index, int generation);

  /** How many documents go into one file. */
  default int documentsPerFile() {
    return 10;
  }

  /** The file name extension, with the dot. */
  default String extension() {
    return ".yaml";
  }
}

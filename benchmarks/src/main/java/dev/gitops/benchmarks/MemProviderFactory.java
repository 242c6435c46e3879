package dev.gitops.benchmarks;

import dev.gitops.api.spi.Provider;
import dev.gitops.core.decode.YamlManifestDecoder;
import dev.gitops.testkit.InMemoryProvider;
import java.nio.file.Path;

/**
 * The default {@link ProviderFactory}: an {@link InMemoryProvider} with id {@code mem} and resources
 * in the generic manifest format of {@link YamlManifestDecoder} (about 1 KB each).
 */
public final class MemProviderFactory implements ProviderFactory {

  /** A factory. */
  public MemProviderFactory() {}

  @Override
  public String name() {
    return "mem";
  }

  @Override
  public Provider create(Path scratch) {
    return InMemoryProvider.builder().id("mem").decoder(YamlManifestDecoder.builder().defaultProvider("mem").build()).build();
  }

  @Override
  public String document(int index, int generation) {
    StringBuilder sb = new StringBuilder(1100);
    String name = String.format("w-%06d", index);
    sb.append("provider: mem\n");
    sb.append("type: widget\n");
    sb.append("scope: team-").append(index % 50).append('\n');
    sb.append("name: ").append(name).append('\n');
    sb.append("spec:\n");
    sb.append("  replicas: ").append(2 + index % 3).append('\n');
    sb.append("  image: registry.example.com/team-").append(index % 50).append("/svc-").append(index)
        .append(":1.").append(generation).append(".0\n");
    sb.append("  labels:\n");
    sb.append("    app.kubernetes.io/name: ").append(name).append('\n');
    sb.append("    app.kubernetes.io/part-of: shop\n");
    sb.append("    app.kubernetes.io/managed-by: gitops\n");
    sb.append("    tier: ").append(index % 2 == 0 ? "frontend" : "backend").append('\n');
    sb.append("  resources:\n    requests: {cpu: 250m, memory: 256Mi}\n    limits: {cpu: \"1\", memory: 512Mi}\n");
    sb.append("  ports:\n    - {name: http, containerPort: 8080, protocol: TCP}\n    - {name: metrics, containerPort: 9090, protocol: TCP}\n");
    sb.append("  env:\n");
    for (int i = 0; i < 8; i++) {
      sb.append("    - name: SETTING_").append(i).append("\n      value: \"value-").append(i).append('-').append(index)
          .append("\"\n");
    }
    sb.append("  probe: {path: /healthz, port: 8080, periodSeconds: 15, initialDelaySeconds: 10}\n");
    sb.append("  notes: \"generated resource ").append(index).append(" of the scale benchmark, generation ")
        .append(generation).append("\"\n");
    return sb.toString();
  }
}

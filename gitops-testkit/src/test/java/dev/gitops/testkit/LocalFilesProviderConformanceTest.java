package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gitops.api.Change;
import dev.gitops.api.Documents;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.core.files.LocalFilesProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;

class LocalFilesProviderConformanceTest extends ProviderConformanceSuite<LocalFilesProvider> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  static JsonNode json(String text) {
    try {
      return Documents.freeze(JSON.readTree(text));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  protected LocalFilesProvider newProvider() {
    return LocalFilesProvider.builder(dir.resolve("target")).structured("**/*.json", "config/*.yaml").build();
  }

  private ResourceKey key(String path) {
    return ResourceKey.of("files", "file", "", path);
  }

  @Override
  protected List<Resource> sampleResources() {
    return List.of(
        Resource.of(key("hello.txt"), json("{\"content\":\"hello\\n\",\"mode\":\"0644\"}")),
        Resource.of(key("nested/dir/app.conf"), json("{\"content\":\"secret=1\\n\",\"mode\":\"0600\"}")),
        Resource.of(key("bin/blob.bin"), json("{\"contentBase64\":\"/wDDKAo=\",\"mode\":\"0755\"}")),
        Resource.of(key("svc/app.json"), json("{\"data\":{\"port\":8080,\"tags\":[\"a\"]},\"mode\":\"0644\"}")),
        Resource.of(key("config/app.yaml"), json("{\"data\":{\"name\":\"web\",\"replicas\":2},\"mode\":\"0640\"}")));
  }

  @Override
  protected Optional<Resource> modify(Resource r) {
    JsonNode d = r.document();
    if (d.has("content")) {
      return Optional.of(r.withDocument(json("{\"content\":" + JSON.valueToTree(d.get("content").asText() + "more\n")
          + ",\"mode\":\"0640\"}")));
    }
    if (d.has("data")) {
      return Optional.of(r.withDocument(json("{\"data\":{\"added\":[1,2,{\"x\":null}]},\"mode\":\"0644\"}")));
    }
    // Bytes that are valid UTF-8 but hold NULs stay binary.
    return Optional.of(r.withDocument(json("{\"contentBase64\":\"AAEC\",\"mode\":\"700\"}")));
  }

  @Override
  protected boolean makeUnobservable(LocalFilesProvider provider, ResourceKey key) throws IOException {
    // A symlink where the file should be: the provider never follows one, so it cannot tell what the file is.
    Path file = provider.target().resolve(key.name());
    Files.delete(file);
    Files.createSymbolicLink(file, dir.resolve("elsewhere"));
    return true;
  }

  @Override
  protected Optional<Change> invalidChange(LocalFilesProvider provider) {
    return Optional.of(createOf(Resource.of(key("../outside.txt"), json("{\"content\":\"x\"}"))));
  }

  @Override
  protected void assertObservedMatches(ResourceKey key, JsonNode applied, JsonNode observed) {
    // Files round-trip exactly: the observed document is the applied one, nothing more.
    assertThat(observed).as(key.toString()).isEqualTo(provider().normalize(key, applied));
    List<String> stray = new ArrayList<>();
    Path temps = provider().target().resolve(".gitops/files/tmp");
    try (var s = Files.walk(provider().target())) {
      s.filter(p -> p.getParent().equals(temps) || p.getFileName().toString().startsWith(".gitops-tmp-"))
          .forEach(p -> stray.add(p.toString()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    assertThat(stray).as("temporary files left behind").isEmpty();
  }
}

package dev.gitops.api.spi;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One file of the desired state handed to a {@link Decoder}.
 *
 * @param path path relative to the source root (forward slashes)
 * @param blobId the Git blob id (or another content id) for caching
 * @param content the bytes
 * @param revision the revision it was read at
 */
public record SourceFile(String path, String blobId, byte[] content, String revision) {

  /** Validates. */
  public SourceFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(blobId, "blobId");
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(revision, "revision");
  }

  /** The content as UTF-8 text. */
  public String text() {
    return new String(content, StandardCharsets.UTF_8);
  }
}

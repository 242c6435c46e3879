package dev.gitops.api.spi;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One file of the desired state handed to a {@link Decoder}.
 *
 * <pre>{@code
 * SourceFile f = new SourceFile("bin/run.sh", blobId, bytes, "main@sha1:...", true);
 * }</pre>
 *
 * @param path path relative to the source root (forward slashes)
 * @param blobId the Git blob id (or another content id) for caching
 * @param content the bytes
 * @param revision the revision it was read at
 * @param executable whether the source marks the file executable (Git's mode 100755)
 */
public record SourceFile(String path, String blobId, byte[] content, String revision, boolean executable) {

  /** Validates. */
  public SourceFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(blobId, "blobId");
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(revision, "revision");
  }

  /** A file the source does not mark executable. */
  public SourceFile(String path, String blobId, byte[] content, String revision) {
    this(path, blobId, content, revision, false);
  }

  /** The content as UTF-8 text. */
  public String text() {
    return new String(content, StandardCharsets.UTF_8);
  }
}

package dev.gitops.api.spi;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import java.util.List;

/**
 * Turns files of the desired state into resources. A decoder claims files by path; the first
 * decoder that claims a file decodes it.
 *
 * <pre>{@code
 * Decoder d = new Decoder() {
 *   public boolean claims(String path) { return path.endsWith(".kv"); }
 *   public List<Resource> decode(SourceFile f) { return List.of(parseKv(f)); }
 * };
 * }</pre>
 */
public interface Decoder {

  /** Whether this decoder reads the file at {@code path}. */
  boolean claims(String path);

  /**
   * Decodes one file. Each resource carries its origin (file, line, revision).
   *
   * @throws DecodeException naming file, line and revision
   */
  List<Resource> decode(SourceFile file);

  /** What shapes this decoder's output besides the file (for the decode cache key). */
  default String fingerprint() {
    return getClass().getName();
  }
}

package dev.gitops.api.spi;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import java.util.List;

/**
 * Turns files of the desired state into resources. A decoder claims files by path; the first
 * decoder that claims a file decodes it.
 *
 * <pre>{@code
 * Decoder kv = new Decoder() {
 *   public boolean claims(String path) { return path.endsWith(".kv"); }
 *
 *   public List<Resource> decode(SourceFile f) {    // one file, one entry: its text is the value
 *     String name = f.path().substring(0, f.path().length() - ".kv".length());
 *     JsonNode value = TextNode.valueOf(new String(f.content(), StandardCharsets.UTF_8).strip());
 *     return List.of(Resource.builder(ResourceKey.of("kv", "entry", name))
 *         .document(Documents.object(Map.of("value", value)))
 *         .origin(Origin.of(f.path(), 1, f.revision()))
 *         .build());
 *   }
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

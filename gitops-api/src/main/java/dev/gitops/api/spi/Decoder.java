package dev.gitops.api.spi;

import dev.gitops.api.DecodeException;
import dev.gitops.api.Resource;
import java.util.ArrayList;
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

  /**
   * Whether this decoder reads the files it claims together rather than one by one: formats whose
   * files only mean something as a whole (an Ansible inventory with its {@code group_vars}, a
   * playbook whose every file makes one digest). The source then hands every claimed file of the
   * tree to one {@link #decodeTogether} call, and decodes again when any of them changed. Files are
   * handed over as they are in Git: variable substitution applies only to decoders that read files
   * one by one.
   */
  default boolean decodesTogether() {
    return false;
  }

  /**
   * Decodes all the files this decoder claims in one tree, sorted by path; called instead of
   * {@link #decode} when {@link #decodesTogether()}. The default decodes them one by one.
   *
   * <pre>{@code
   * abstract class InventoryDecoder implements Decoder {    // claims() and decode() as for any decoder
   *   public boolean decodesTogether() { return true; }
   *
   *   public List<Resource> decodeTogether(List<SourceFile> files) {
   *     return hosts(files);    // one resource per host, with the variables of every group_vars file
   *   }
   *
   *   abstract List<Resource> hosts(List<SourceFile> inventory);
   * }
   * }</pre>
   *
   * @throws DecodeException naming file, line and revision
   */
  default List<Resource> decodeTogether(List<SourceFile> files) {
    List<Resource> out = new ArrayList<>();
    for (SourceFile f : files) {
      out.addAll(decode(f));
    }
    return out;
  }

  /**
   * Tells this decoder the whole desired state a source has just read with it: every resource of
   * the tree at that revision, of every decoder (each with its origin), after the {@link #decode}
   * and {@link #decodeTogether} calls of the read. A source decodes only the files that changed
   * since its last read and never says which files are gone, so a decoder that keeps a record of
   * what the desired state declares (where a key is declared, for a provider's messages) cannot
   * tell from its decode calls alone that a file was removed, or that a key left a file decoded
   * before: it replaces that record with what {@code resources} holds. {@code GitSource} calls it
   * after every read that decoded (a full read, and one that decoded only the changed files), not
   * when it returns the state of its last read again; a source of its own that decodes should do
   * likewise. The default does nothing.
   *
   * <pre>{@code
   * abstract class IndexingDecoder implements Decoder {
   *   final Map<ResourceKey, Origin> declaredAt = new ConcurrentHashMap<>();
   *
   *   public void treeRead(List<Resource> resources) {   // what decode() added may be gone
   *     Map<ResourceKey, Origin> now = new HashMap<>();
   *     resources.forEach(r -> now.put(r.key(), r.origin()));
   *     declaredAt.keySet().retainAll(now.keySet());
   *     declaredAt.putAll(now);
   *   }
   * }
   * }</pre>
   *
   * @param resources the desired state read, in the source's order
   */
  default void treeRead(List<Resource> resources) {
    // a decoder that keeps nothing across reads has nothing to forget
  }

  /** What shapes this decoder's output besides the file (for the decode cache key). */
  default String fingerprint() {
    return getClass().getName();
  }

  /**
   * This decoder configured by the repository's own config file ({@code .gitops.yaml} at the root
   * of the source's path), read at the same revision as the files it then decodes; that file is
   * never decoded as a resource. A decoder that reads settings from it returns a new decoder whose
   * {@link #fingerprint} reflects them; the default ignores the file.
   *
   * <pre>{@code
   * abstract class SettingsDecoder implements Decoder {
   *   public Decoder configure(SourceFile config) {
   *     Map<String, String> s = settings(config);    // a DecodeException names config.path() when bad
   *     return s.isEmpty() ? this : with(s);
   *   }
   *
   *   abstract Map<String, String> settings(SourceFile config);   // this decoder's part of the file
   *
   *   abstract Decoder with(Map<String, String> settings);         // its fingerprint() names them
   * }
   * }</pre>
   *
   * @throws dev.gitops.api.DecodeException naming the config file when this decoder's part of it is bad
   */
  default Decoder configure(SourceFile repositoryConfig) {
    return this;
  }
}

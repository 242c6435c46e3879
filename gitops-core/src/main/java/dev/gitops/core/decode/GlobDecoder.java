package dev.gitops.core.decode;

import dev.gitops.api.Resource;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.util.List;
import java.util.Objects;

/**
 * A decoder for the files one path glob selects: it claims exactly the paths the glob matches
 * (relative to the source's sub-path, as decoders see them) and hands them to another decoder,
 * whatever that decoder would claim on its own. This is what {@code GitSource.builder().decoder(glob,
 * decoder)} and {@code Reconciler.builder().decoder(glob, decoder)} build.
 *
 * <pre>{@code
 * Decoder settings = GlobDecoder.of("settings/**}{@code /*.yaml",
 *     YamlManifestDecoder.builder().map(DocumentMapping.when("/kind", "Setting")
 *         .provider("db").type("setting").nameFrom("/name").build()).build());
 * }</pre>
 */
public final class GlobDecoder implements Decoder {

  private final Glob glob;
  private final Decoder decoder;

  private GlobDecoder(Glob glob, Decoder decoder) {
    this.glob = glob;
    this.decoder = decoder;
  }

  /**
   * A decoder that reads the files {@code glob} matches with {@code decoder}.
   *
   * @throws IllegalArgumentException naming the glob when it is empty or malformed
   */
  public static GlobDecoder of(String glob, Decoder decoder) {
    Objects.requireNonNull(decoder, "decoder");
    return new GlobDecoder(Glob.of(glob), decoder);
  }

  /** The glob. */
  public String glob() {
    return glob.toString();
  }

  @Override
  public boolean claims(String path) {
    return glob.matches(path);
  }

  @Override
  public List<Resource> decode(SourceFile file) {
    return decoder.decode(file);
  }

  /** Tells the wrapped decoder, which may keep a record of what it decoded. */
  @Override
  public void treeRead(List<Resource> resources) {
    decoder.treeRead(resources);
  }

  /** The glob and the wrapped decoder's fingerprint: either one changing decodes the files again. */
  @Override
  public String fingerprint() {
    return "glob(" + glob + ")=" + decoder.fingerprint();
  }

  @Override
  public String toString() {
    return fingerprint();
  }
}

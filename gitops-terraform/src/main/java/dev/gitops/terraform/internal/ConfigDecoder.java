package dev.gitops.terraform.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Claims the Terraform configuration under one directory of the source: {@code *.tf}, {@code
 * *.tf.json}, {@code *.tfvars}, {@code *.tfvars.json} at any depth (local modules), and the
 * dependency lock file. Each becomes one resource, {@code <provider>:file:config:<path relative
 * to the directory>} with the document {@code {"content": "<text>"}}, which the provider writes
 * into its working directory before it plans.
 */
public final class ConfigDecoder implements Decoder {

  private final String provider;
  private final String prefix;

  /** Claims files under {@code directory} ("" for the source root) for {@code provider}. */
  public ConfigDecoder(String provider, String directory) {
    this.provider = provider;
    String d = directory.replace('\\', '/');
    while (d.startsWith("./")) {
      d = d.substring(2);
    }
    d = d.replaceAll("/+$", "");
    this.prefix = d.isEmpty() || d.equals(".") ? "" : d + "/";
  }

  /** Whether {@code path} is a configuration file of the directory. */
  @Override
  public boolean claims(String path) {
    if (!path.startsWith(prefix)) {
      return false;
    }
    String rel = path.substring(prefix.length());
    String name = rel.substring(rel.lastIndexOf('/') + 1);
    return name.endsWith(".tf") || name.endsWith(".tf.json") || name.endsWith(".tfvars")
        || name.endsWith(".tfvars.json") || rel.equals(InitInputs.LOCK_FILE);
  }

  /** One resource holding the file's text. */
  @Override
  public List<Resource> decode(SourceFile file) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(file.content())).toString();
    } catch (CharacterCodingException e) {
      throw new DecodeException(Origin.of(file.path(), 0, file.revision()),
          "Terraform configuration files are UTF-8 text; this one is not");
    }
    String rel = file.path().substring(prefix.length());
    JsonNode doc = Documents.object(Map.of("content", Documents.nodes().textNode(text)));
    return List.of(Resource.builder(Addresses.file(provider, rel)).document(doc)
        .origin(Origin.of(file.path(), 1, file.revision())).build());
  }

  @Override
  public String fingerprint() {
    return getClass().getName() + "|" + provider + "|" + prefix;
  }
}

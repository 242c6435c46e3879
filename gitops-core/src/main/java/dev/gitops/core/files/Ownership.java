package dev.gitops.core.files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-target ownership record of the local-files provider: one small file per claimed path
 * in {@code <target>/.gitops/files/owners/}, holding the owner id and the path. It is shared by
 * every reconciler that writes into the target, whichever state store each one uses, so two
 * owners never write or delete each other's files.
 *
 * <p>A claim is made atomically (a hard link that fails when the name is taken), so two owners
 * racing for one path cannot both win, and no lock is needed. A claim is made before a file is
 * first written and removed after the file is deleted, so it covers the file for its whole life;
 * a crash between the two leaves a claim on an absent file, which only its owner can reuse. Claim
 * files are named like store entries ({@link KeyFileNames}), so any path fits a file name.
 */
final class Ownership {

  private static final Logger LOG = LoggerFactory.getLogger(Ownership.class);
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final String OWNER = "owner";
  private static final String PATH = "path";

  private final Path dir;

  /** The record kept in {@code dir} (created on the first claim). */
  Ownership(Path dir) {
    this.dir = dir;
  }

  /** The directory of claim files. */
  Path directory() {
    return dir;
  }

  /**
   * The owner that claimed {@code path}, or null when nobody has.
   *
   * @throws IOException when the claim file cannot be read or does not hold this path's claim
   */
  String ownerOf(String path) throws IOException {
    Path f = dir.resolve(KeyFileNames.of(path));
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      return null;
    }
    return read(f, bytes).get(path);
  }

  /**
   * Claims {@code path} for {@code owner}; a claim the owner already holds is kept.
   *
   * @throws ClaimedException when another owner holds it
   */
  void claim(String path, String owner) throws IOException {
    String holder = ownerOf(path);
    if (holder == null) {
      DurableFiles.createPrivateDirectory(dir);
      ObjectNode n = JSON.createObjectNode().put(OWNER, owner).put(PATH, path);
      if (DurableFiles.writeNew(dir.resolve(KeyFileNames.of(path)), JSON.writeValueAsBytes(n))) {
        LOG.debug("owner {} claimed {}", owner, path);
        return;
      }
      // Another owner claimed it between the read and the link: theirs it is.
      holder = ownerOf(path);
    }
    if (!owner.equals(holder)) {
      throw new ClaimedException(path, holder, dir.resolve(KeyFileNames.of(path)));
    }
  }

  /**
   * Drops {@code owner}'s claim on {@code path} (nothing when there is none).
   *
   * @throws ClaimedException when another owner holds it
   */
  void release(String path, String owner) throws IOException {
    String holder = ownerOf(path);
    if (holder == null) {
      return;
    }
    if (!owner.equals(holder)) {
      throw new ClaimedException(path, holder, dir.resolve(KeyFileNames.of(path)));
    }
    DurableFiles.delete(dir.resolve(KeyFileNames.of(path)));
    LOG.debug("owner {} released {}", owner, path);
  }

  /** Every claimed path and its owner, sorted by path (empty when nothing was ever claimed). */
  Map<String, String> all() throws IOException {
    Map<String, String> out = new TreeMap<>();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path f : ds) {
        String name = f.getFileName().toString();
        if (name.startsWith(DurableFiles.TEMP_PREFIX) || !name.endsWith(KeyFileNames.SUFFIX)) {
          // the temp file of a claim in progress (or cut short by a crash): not a claim yet
          continue;
        }
        byte[] bytes;
        try {
          bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
          continue;  // released while listing
        }
        out.putAll(read(f, bytes));
      }
    }
    return out;
  }

  private static Map<String, String> read(Path f, byte[] bytes) throws IOException {
    JsonNode n;
    try {
      n = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IOException("ownership record " + f + " is not valid JSON: " + e.getMessage(), e);
    }
    JsonNode owner = n == null ? null : n.get(OWNER);
    JsonNode path = n == null ? null : n.get(PATH);
    if (owner == null || !owner.isTextual() || path == null || !path.isTextual()
        || !f.getFileName().toString().equals(KeyFileNames.of(path.textValue()))) {
      throw new IOException("ownership record " + f + " is damaged: want {\"owner\": ..., \"path\": ...} for the path"
          + " its name stands for, got " + new String(bytes, StandardCharsets.UTF_8));
    }
    return Map.of(path.textValue(), owner.textValue());
  }

  /** A path another owner holds. */
  static final class ClaimedException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String holder;

    ClaimedException(String path, String holder, Path record) {
      super("'" + path + "' belongs to owner '" + holder + "' (ownership record " + record
          + "); it is left alone");
      this.holder = holder;
    }

    /** The owner that holds the path. */
    String holder() {
      return holder;
    }
  }
}

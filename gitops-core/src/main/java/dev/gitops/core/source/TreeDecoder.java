package dev.gitops.core.source;

import dev.gitops.api.Cancellation;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.SourceException;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.VariableSubstitution;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.ignore.IgnoreNode;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the files under a sub-path of one Git tree straight from the object database and decodes
 * them, reusing decoded resources of unchanged blobs. Not thread-safe: {@link GitSource} serialises
 * reads.
 */
final class TreeDecoder {

  static final String IGNORE_FILE = ".gitopsignore";
  /** The repository config at the root of the sub-path: handed to every decoder, never decoded itself. */
  static final String CONFIG_FILE = ".gitops.yaml";
  private static final Logger LOG = LoggerFactory.getLogger(TreeDecoder.class);

  /** What a decoded file depends on: its content, its path, the decoder and the variables. */
  private record CacheKey(String blobId, String path, String decoderFingerprint, String variablesDigest) {}

  private record IgnoreLevel(String dir, IgnoreNode node) {}

  private final VariableSubstitution variables;
  private final long maxFileSize;
  private Map<CacheKey, List<Resource>> cache = new HashMap<>();
  private int decodes;
  private Unclaimed unclaimed = new Unclaimed(0, List.of());

  /** Files of the last walk that no decoder claimed: how many, and the first few paths. */
  record Unclaimed(int count, List<String> sample) {}

  /** How many files shown by name when files go unread. */
  static final int SAMPLE = 5;

  TreeDecoder(VariableSubstitution variables, long maxFileSize) {
    this.variables = variables;
    this.maxFileSize = maxFileSize;
  }

  /** How many files were handed to a decoder since this object was made. */
  int decodeCount() {
    return decodes;
  }

  /** How many decoded files are cached. */
  int cachedFiles() {
    return cache.size();
  }

  /** The files of the last {@link #read} that no decoder claimed. */
  Unclaimed unclaimed() {
    return unclaimed;
  }

  /** Forgets every decoded file. */
  void clear() {
    cache = new HashMap<>();
  }

  /** One walk over a tree: the state it builds up. */
  private final class Walk {
    final ObjectReader reader;
    final String subPath;
    final String revision;
    final List<Decoder> decoders;
    final Cancellation cancellation;
    final Map<CacheKey, List<Resource>> seen = new HashMap<>();
    final List<Resource> resources = new ArrayList<>();
    final List<String> unclaimedSample = new ArrayList<>();
    int unclaimedCount;
    /** Files claimed by decoders that read them together, by decoder, in walk order. */
    final Map<Decoder, List<String[]>> together = new LinkedHashMap<>();

    Walk(ObjectReader reader, String subPath, String revision, List<Decoder> decoders, Cancellation cancellation) {
      this.reader = reader;
      this.subPath = subPath;
      this.revision = revision;
      this.decoders = decoders;
      this.cancellation = cancellation;
    }

    String repoPath(String rel) {
      return subPath.isEmpty() ? rel : rel.isEmpty() ? subPath : subPath + "/" + rel;
    }

    void tree(ObjectId treeId, String dir, List<IgnoreLevel> ignores, boolean ignored) throws IOException {
      List<IgnoreLevel> levels = ignores;
      if (!ignored) {
        IgnoreNode node = ignoreFile(treeId, dir);
        if (node != null) {
          levels = new ArrayList<>(ignores);
          levels.add(new IgnoreLevel(dir, node));
        }
      }
      try (TreeWalk tw = new TreeWalk(reader)) {
        tw.addTree(treeId);
        tw.setRecursive(false);
        while (tw.next()) {
          cancellation.throwIfCancelled();
          String name = tw.getNameString();
          String rel = dir.isEmpty() ? name : dir + "/" + name;
          FileMode mode = tw.getFileMode(0);
          // checked before ignore rules: untrusted trees must not carry links anywhere under the sub-path
          if (mode == FileMode.SYMLINK) {
            throw new SourceException(repoPath(rel) + " at " + revision
                + " is a symbolic link; symlinks are not followed (remove it from the repository)");
          }
          if (mode == FileMode.GITLINK) {
            throw new SourceException(repoPath(rel) + " at " + revision
                + " is a submodule (gitlink); submodules are not read");
          }
          boolean isDir = mode == FileMode.TREE;
          boolean skip = ignored || isIgnored(levels, rel, isDir);
          if (isDir) {
            tree(tw.getObjectId(0), rel, levels, skip);
          } else if (!skip && !name.equals(IGNORE_FILE) && !rel.equals(CONFIG_FILE)) {
            file(tw.getObjectId(0), rel, mode == FileMode.EXECUTABLE_FILE);
          } else if (skip && !name.equals(IGNORE_FILE)) {
            LOG.debug("{} at {} is ignored by {}", repoPath(rel), revision, IGNORE_FILE);
          }
        }
      }
    }

    private IgnoreNode ignoreFile(ObjectId treeId, String dir) throws IOException {
      try (TreeWalk tw = TreeWalk.forPath(reader, IGNORE_FILE, treeId)) {
        if (tw == null || tw.getFileMode(0) != FileMode.REGULAR_FILE && tw.getFileMode(0) != FileMode.EXECUTABLE_FILE) {
          return null;  // absent; a link or directory of that name is refused by the walk itself
        }
        String rel = dir.isEmpty() ? IGNORE_FILE : dir + "/" + IGNORE_FILE;
        byte[] bytes = load(tw.getObjectId(0), rel);
        IgnoreNode node = new IgnoreNode();
        node.parse(repoPath(rel), new ByteArrayInputStream(bytes));
        return node;
      }
    }

    private boolean isIgnored(List<IgnoreLevel> levels, String rel, boolean isDir) {
      for (int i = levels.size() - 1; i >= 0; i--) {
        IgnoreLevel level = levels.get(i);
        String p = level.dir().isEmpty() ? rel : rel.substring(level.dir().length() + 1);
        switch (level.node().isIgnored(p, isDir)) {
          case IGNORED:
            return true;
          case NOT_IGNORED:
            return false;
          default:
            break;  // no rule of this level matched: ask the parent level
        }
      }
      return false;
    }

    private byte[] load(ObjectId blob, String rel) throws IOException {
      return TreeDecoder.this.load(reader, blob, rel, revision);
    }

    private void file(ObjectId blob, String rel, boolean executable) throws IOException {
      Decoder decoder = null;
      for (Decoder d : decoders) {
        if (d.claims(rel)) {
          decoder = d;
          break;
        }
      }
      if (decoder == null) {
        LOG.debug("{} at {}: no decoder claims it", repoPath(rel), revision);
        if (unclaimedCount++ < SAMPLE) {
          unclaimedSample.add(rel);
        }
        return;
      }
      if (decoder.decodesTogether()) {
        together.computeIfAbsent(decoder, d -> new ArrayList<>()).add(new String[] {rel, blob.name()});
        return;
      }
      // One blob decodes differently with and without the executable bit (a file's mode comes from it).
      CacheKey key = new CacheKey(blob.name() + (executable ? "+x" : ""), rel, decoder.fingerprint(),
          variables == null ? "" : variables.digest());
      List<Resource> decoded = seen.get(key);
      if (decoded == null) {
        decoded = cache.get(key);
      }
      if (decoded == null) {
        SourceFile source = new SourceFile(rel, blob.name(), load(blob, rel), revision, executable);
        if (variables != null) {
          source = variables.apply(source);
        }
        decodes++;
        try {
          decoded = List.copyOf(decoder.decode(source));
        } catch (GitOpsException e) {
          throw e;
        } catch (RuntimeException e) {
          throw new DecodeException(Origin.of(rel, 0, revision),
              "decoder " + decoder.fingerprint() + " failed: " + e, e);
        }
      }
      seen.put(key, decoded);
      for (Resource r : decoded) {
        resources.add(atRevision(r));
      }
    }

    /**
     * Decodes the files of each decoder that reads them together, once per decoder; cached under
     * a digest of every (path, blob) it claimed, so a change to any one of them decodes again.
     */
    void decodeTogether() throws IOException {
      for (Map.Entry<Decoder, List<String[]>> e : together.entrySet()) {
        Decoder decoder = e.getKey();
        List<String[]> files = new ArrayList<>(e.getValue());
        files.sort((a, b) -> a[0].compareTo(b[0]));
        MessageDigest md = Documents.sha256();
        for (String[] f : files) {
          md.update((f[0] + "\0" + f[1] + "\0").getBytes(StandardCharsets.UTF_8));
        }
        CacheKey key = new CacheKey(HexFormat.of().formatHex(md.digest()), "", decoder.fingerprint(), "together");
        List<Resource> decoded = cache.get(key);
        if (decoded == null) {
          List<SourceFile> sources = new ArrayList<>();
          for (String[] f : files) {
            cancellation.throwIfCancelled();
            sources.add(new SourceFile(f[0], f[1], load(ObjectId.fromString(f[1]), f[0]), revision));
          }
          decodes += sources.size();
          try {
            decoded = List.copyOf(decoder.decodeTogether(sources));
          } catch (GitOpsException ex) {
            throw ex;
          } catch (RuntimeException ex) {
            throw new DecodeException(Origin.of(files.get(0)[0], 0, revision),
                "decoder " + decoder.fingerprint() + " failed: " + ex, ex);
          }
        }
        seen.put(key, decoded);
        for (Resource r : decoded) {
          resources.add(atRevision(r));
        }
      }
    }

    /** A cached resource carries the revision it was first decoded at: give it this one. */
    private Resource atRevision(Resource r) {
      Origin o = r.origin();
      if (o.revision().equals(revision)) {
        return r;
      }
      // the canonical constructor shares the document and the (immutable) sets; a builder copies them
      return new Resource(r.key(), r.document(), Origin.of(o.path(), o.line(), revision), r.dependsOn(), r.wave(),
          r.policy(), r.sensitive());
    }
  }

  /**
   * The decoders, each {@linkplain Decoder#configure configured} by the repository config at the
   * root of the sub-path when there is one (read from the same tree, so settings and files always
   * come from one revision).
   */
  private List<Decoder> configured(ObjectReader reader, ObjectId treeId, String subPath, String revision,
      List<Decoder> decoders) throws IOException {
    try (TreeWalk tw = TreeWalk.forPath(reader, CONFIG_FILE, treeId)) {
      if (tw == null || tw.getFileMode(0) != FileMode.REGULAR_FILE && tw.getFileMode(0) != FileMode.EXECUTABLE_FILE) {
        return decoders;  // absent; a link of that name is refused by the walk, a directory is walked as files
      }
      ObjectId blob = tw.getObjectId(0);
      String path = subPath.isEmpty() ? CONFIG_FILE : subPath + "/" + CONFIG_FILE;
      SourceFile config = new SourceFile(path, blob.name(), load(reader, blob, CONFIG_FILE, revision), revision);
      List<Decoder> out = new ArrayList<>(decoders.size());
      for (Decoder d : decoders) {
        out.add(d.configure(config));
      }
      LOG.debug("{} at {} configured the decoders", path, revision);
      return out;
    }
  }

  private byte[] load(ObjectReader reader, ObjectId blob, String rel, String revision) throws IOException {
    long size = reader.getObjectSize(blob, Constants.OBJ_BLOB);
    if (size > maxFileSize) {
      throw new DecodeException(Origin.of(rel, 0, revision),
          "file is " + size + " bytes, more than the limit of " + maxFileSize + " bytes (maxFileSize)");
    }
    try {
      return reader.open(blob, Constants.OBJ_BLOB).getCachedBytes((int) Math.min(Integer.MAX_VALUE - 8, maxFileSize));
    } catch (LargeObjectException e) {
      throw new DecodeException(Origin.of(rel, 0, revision), "file is larger than " + maxFileSize + " bytes", e);
    }
  }

  /**
   * Decodes every file under {@code treeId} (the tree of the sub-path) at {@code revision}. The
   * cache then holds exactly the files of this tree, which bounds it.
   */
  List<Resource> read(ObjectReader reader, ObjectId treeId, String subPath, String revision, List<Decoder> decoders,
      Cancellation cancellation) throws IOException {
    Walk walk = new Walk(reader, subPath, revision, configured(reader, treeId, subPath, revision, decoders), cancellation);
    walk.tree(treeId, "", List.of(), false);
    walk.decodeTogether();
    cache = walk.seen;
    unclaimed = new Unclaimed(walk.unclaimedCount, List.copyOf(walk.unclaimedSample));
    return walk.resources;
  }
}

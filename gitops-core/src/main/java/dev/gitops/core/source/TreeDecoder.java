package dev.gitops.core.source;

import dev.gitops.api.Cancellation;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.GitOpsException;
import dev.gitops.api.Origin;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SourceException;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.VariableSubstitution;
import dev.gitops.core.internal.fs.GitDirNames;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.ignore.IgnoreNode;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the files under a sub-path of one Git tree straight from the object database and decodes
 * them, reusing decoded resources of unchanged blobs. A directory whose tree id, place, enclosing
 * ignore files and decoders are those of the last read is not walked at all: what it gave last time
 * (its resources, decoded files, files for decoders that read together, unclaimed files) is taken
 * again, so a new commit walks only the directories on the path to what changed. Not thread-safe:
 * {@link GitSource} serialises reads.
 */
final class TreeDecoder {

  static final String IGNORE_FILE = ".gitopsignore";
  /** The repository config at the root of the sub-path: handed to every decoder, never decoded itself. */
  static final String CONFIG_FILE = ".gitops.yaml";
  private static final Logger LOG = LoggerFactory.getLogger(TreeDecoder.class);

  /** What a decoded file depends on: its content, its path, the decoder and the variables. */
  private record CacheKey(String blobId, String path, String decoderFingerprint, String variablesDigest) {
    // equals and hashCode written out, as a record's generated ones are linked through
    // invokedynamic at their first call (~10 ms of a one-shot command: benchmarks/README.md)
    @Override
    public boolean equals(Object o) {
      return o instanceof CacheKey k && Objects.equals(blobId, k.blobId) && Objects.equals(path, k.path)
          && Objects.equals(decoderFingerprint, k.decoderFingerprint)
          && Objects.equals(variablesDigest, k.variablesDigest);
    }

    @Override
    public int hashCode() {
      return ((Objects.hashCode(blobId) * 31 + Objects.hashCode(path)) * 31 + Objects.hashCode(decoderFingerprint)) * 31
          + Objects.hashCode(variablesDigest);
    }
  }

  /** One ignore file in force: its directory, its rules and its blob (which names its content). */
  private record IgnoreLevel(String dir, IgnoreNode node, String blob) {}

  /**
   * What a directory's walk gave depends on: its tree (every name, mode and blob below it), where it
   * is, the ignore files of the directories above it, and whether an ignore rule above excludes it.
   */
  private record SubtreeKey(ObjectId tree, String dir, List<String> ignoresAbove, boolean ignored) {
    // equals and hashCode written out, as CacheKey's are
    @Override
    public boolean equals(Object o) {
      return o instanceof SubtreeKey k && ignored == k.ignored && Objects.equals(tree, k.tree)
          && Objects.equals(dir, k.dir) && Objects.equals(ignoresAbove, k.ignoresAbove);
    }

    @Override
    public int hashCode() {
      return ((Objects.hashCode(tree) * 31 + Objects.hashCode(dir)) * 31 + Objects.hashCode(ignoresAbove)) * 31
          + Boolean.hashCode(ignored);
    }
  }

  /** What one directory's walk appended to its walk's lists: the ranges {@code [from, to)} of each. */
  private record Subtree(Walk walk, int resourcesFrom, int resourcesTo, int seenFrom, int seenTo, int togetherFrom,
      int togetherTo, int unclaimedFrom, int unclaimedTo) {}

  private final VariableSubstitution variables;
  private final long maxFileSize;
  /** The repository URL (without password), for messages. */
  private final String repository;
  private Map<CacheKey, List<Resource>> cache = new HashMap<>();
  private int decodes;
  /** What the last read (or read since) warned about, one line each: a user of the CLI sees no log. */
  private List<String> warnings = new ArrayList<>();
  private Unclaimed unclaimed = new Unclaimed(0, List.of());
  /** The directories of the last walk, and the decoders, variables and sub-path it was made with. */
  private Map<SubtreeKey, Subtree> subtrees = new HashMap<>();
  private String subtreesContext = "";
  private int reusedSubtrees;

  /** Files of the last walk that no decoder claimed: how many, and the first few paths. */
  record Unclaimed(int count, List<String> sample) {}

  /** How many files shown by name when files go unread. */
  static final int SAMPLE = 5;

  /**
   * The most directories a path may nest below the sub-path (git's own {@code core.maxTreeDepth} is
   * 2048; real repositories nest a few dozen at most): the walk recurses per
   * directory, so a crafted tree thousands of levels deep would otherwise end the read with a
   * {@link StackOverflowError} rather than an error naming it, even on a thread with a small stack.
   */
  static final int MAX_DEPTH = 256;

  /**
   * Where the file size limit is raised, for the refusal: the library's own message is the one
   * {@code gitops} and the agent print, so it names their settings too.
   */
  static final String LIMIT_SETTINGS = "--max-file-size, the agent's source.maxFileSize, GitSource.Builder.maxFileSize";

  TreeDecoder(VariableSubstitution variables, long maxFileSize, String repository) {
    this.variables = variables;
    this.maxFileSize = maxFileSize;
    this.repository = repository;
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

  /** How many directories the last {@link #read} took from the walk before without walking them. */
  int reusedSubtrees() {
    return reusedSubtrees;
  }

  /** Forgets every decoded file and walked directory. */
  void clear() {
    cache = new HashMap<>();
    subtrees = new HashMap<>();
  }

  /** One walk over a tree: the state it builds up. */
  /**
   * The current entry's path from the walk's tree as Git stores it, each byte outside ASCII written
   * {@code \xNN}, when it ({@code decoded} by JGit, which falls back to Latin-1) is not valid UTF-8;
   * null when it is (an ASCII path is not looked at again).
   */
  static String notUtf8(String decoded, TreeWalk tw) {
    boolean ascii = true;
    for (int i = 0; i < decoded.length() && ascii; i++) {
      ascii = decoded.charAt(i) < 0x80;
    }
    if (ascii) {
      return null;
    }
    byte[] raw = tw.getRawPath();  // the path from the walk's tree: a name where the walk is one tree deep
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
      return null;
    } catch (CharacterCodingException e) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < raw.length; i++) {
        int c = raw[i] & 0xff;
        if (c < 0x80) {
          b.append((char) c);
        } else {
          b.append(String.format("\\x%02X", c));
        }
      }
      return b.toString();
    }
  }

  private final class Walk {
    final ObjectReader reader;
    final String subPath;
    final String revision;
    final List<Decoder> decoders;
    final Cancellation cancellation;
    final Map<CacheKey, List<Resource>> seen = new HashMap<>();
    /** The keys of {@link #seen} in the order the walk met them (a directory's are one range of it). */
    final List<CacheKey> seenOrder = new ArrayList<>();
    final List<Resource> resources = new ArrayList<>();
    /** Every unclaimed file, in walk order (only the first {@link #SAMPLE} are reported). */
    final List<String> unclaimedPaths = new ArrayList<>();
    /** Files claimed by decoders that read them together, in walk order: the decoder's index and {path, blob}. */
    final List<Map.Entry<Integer, String[]>> together = new ArrayList<>();
    /** The directories of this walk. */
    final Map<SubtreeKey, Subtree> walked = new HashMap<>();
    /**
     * The directories of the walk before, when it used the same decoders, variables and sub-path, else
     * empty; dropped when this walk ends, so a walk never holds the one before it.
     */
    Map<SubtreeKey, Subtree> before;
    int reused;

    Walk(ObjectReader reader, String subPath, String revision, List<Decoder> decoders, Cancellation cancellation,
        Map<SubtreeKey, Subtree> before) {
      this.reader = reader;
      this.subPath = subPath;
      this.revision = revision;
      this.decoders = decoders;
      this.cancellation = cancellation;
      this.before = before;
    }

    /** How many directories {@code dir} (relative to the sub-path, {@code ""} for its root) is below it. */
    private int depth(String dir) {
      if (dir.isEmpty()) {
        return 0;
      }
      int n = 1;
      for (int i = dir.indexOf('/'); i >= 0; i = dir.indexOf('/', i + 1)) {
        n++;
      }
      return n;
    }

    String repoPath(String rel) {
      return subPath.isEmpty() ? rel : rel.isEmpty() ? subPath : subPath + "/" + rel;
    }

    void tree(ObjectId treeId, String dir, List<IgnoreLevel> ignores, boolean ignored) throws IOException {
      cancellation.throwIfCancelled();
      if (depth(dir) > MAX_DEPTH) {
        int cut = Math.max(1, dir.lastIndexOf('/', 60));
        String shown = dir.length() > 120 ? dir.substring(0, cut) + "/.../" + dir.substring(dir.lastIndexOf('/') + 1) : dir;
        throw new SourceException(repoPath(shown) + " at " + revision + " in " + repository + " nests more than "
            + MAX_DEPTH + " directories deep below the path; such trees are refused (git refuses them past"
            + " core.maxTreeDepth)");
      }
      List<String> above = new ArrayList<>(ignores.size());
      for (IgnoreLevel level : ignores) {
        above.add(level.dir() + "\0" + level.blob());
      }
      SubtreeKey key = new SubtreeKey(treeId, dir, above, ignored);
      Subtree last = before.get(key);
      if (last != null) {
        reuse(key, last);
        return;
      }
      int resourcesFrom = resources.size();
      int seenFrom = seenOrder.size();
      int togetherFrom = together.size();
      int unclaimedFrom = unclaimedPaths.size();
      walk(treeId, dir, ignores, ignored);
      walked.put(key, new Subtree(this, resourcesFrom, resources.size(), seenFrom, seenOrder.size(), togetherFrom,
          together.size(), unclaimedFrom, unclaimedPaths.size()));
    }

    /**
     * Takes what directory {@code key} gave the walk before, which saw the very same tree in the same
     * place under the same ignore files: its resources (at this revision), decoded files, files for
     * decoders that read together and unclaimed files.
     */
    private void reuse(SubtreeKey key, Subtree last) {
      reused++;
      Walk w = last.walk();
      int resourcesFrom = resources.size();
      int seenFrom = seenOrder.size();
      int togetherFrom = together.size();
      int unclaimedFrom = unclaimedPaths.size();
      for (int i = last.resourcesFrom(); i < last.resourcesTo(); i++) {
        resources.add(atRevision(w.resources.get(i)));
      }
      for (int i = last.seenFrom(); i < last.seenTo(); i++) {
        CacheKey k = w.seenOrder.get(i);
        if (seen.putIfAbsent(k, w.seen.get(k)) == null) {
          seenOrder.add(k);
        }
      }
      together.addAll(w.together.subList(last.togetherFrom(), last.togetherTo()));
      unclaimedPaths.addAll(w.unclaimedPaths.subList(last.unclaimedFrom(), last.unclaimedTo()));
      walked.put(key, new Subtree(this, resourcesFrom, resources.size(), seenFrom, seenOrder.size(), togetherFrom,
          together.size(), unclaimedFrom, unclaimedPaths.size()));
    }

    private void walk(ObjectId treeId, String dir, List<IgnoreLevel> ignores, boolean ignored) throws IOException {
      List<IgnoreLevel> levels = ignores;
      if (!ignored) {
        IgnoreNode node = ignoreFile(treeId, dir);
        if (node != null) {
          levels = new ArrayList<>(ignores);
          levels.add(new IgnoreLevel(dir, node, blobOf(treeId)));
        }
      }
      try (TreeWalk tw = new TreeWalk(reader)) {
        tw.addTree(treeId);
        tw.setRecursive(false);
        while (tw.next()) {
          cancellation.throwIfCancelled();
          String name = tw.getNameString();
          String rel = dir.isEmpty() ? name : dir + "/" + name;
          String raw = notUtf8(name, tw);
          FileMode mode = tw.getFileMode(0);
          // checked before ignore rules: git itself refuses such trees, so none is a repository's by mistake
          String malformed = malformedName(name);
          if (malformed != null) {
            // a name "secret/key" would be read as the file key in directory secret, which the ignore
            // rules for secret/ never see; '..' would climb out of the sub-path
            String shown = name.replace("\0", "\\0");
            throw new SourceException("the tree entry '" + shown + "' in " + (dir.isEmpty() && subPath.isEmpty()
                ? "the root" : "'" + repoPath(dir) + "'") + " at " + revision + " in " + repository + " " + malformed
                + "; Git refuses such entries and they are never read (remove it from the repository)");
          }
          if (GitDirNames.isGitDir(name)) {
            // git refuses such trees (fsck: hasDotgit); written into a target that is a work tree it
            // would be that repository: hooks and config that run code
            throw new SourceException(repoPath(rel) + " at " + revision + " in " + repository
                + " is named like a Git directory ('.git'); Git refuses such paths and they are never read"
                + " (remove it from the repository)");
          }
          boolean isDir = mode == FileMode.TREE;
          boolean skip = ignored || isIgnored(levels, rel, isDir);
          if ((mode == FileMode.SYMLINK || mode == FileMode.GITLINK) && skip && !rel.equals(CONFIG_FILE)) {
            // an excluded link or submodule is never read (nor followed): the rest of the tree is
            LOG.debug("{} at {} is a {} that {} excludes; not read", repoPath(rel), revision,
                mode == FileMode.SYMLINK ? "symbolic link" : "submodule", IGNORE_FILE);
            continue;
          }
          if (mode == FileMode.SYMLINK) {
            throw new SourceException(repoPath(rel) + " at " + revision + " in " + repository
                + " is a symbolic link; symlinks are not followed (remove it from the repository, or exclude it in "
                + IGNORE_FILE + ")");
          }
          if (mode == FileMode.GITLINK) {
            throw new SourceException(repoPath(rel) + " at " + revision + " in " + repository
                + " is a submodule (gitlink); submodules are not read (exclude it in " + IGNORE_FILE + ", or read"
                + " the submodule's repository with a source of its own)");
          }
          if (raw != null && !skip && (isDir || claimed(decoders, rel))) {
            // JGit reads such a name as Latin-1: a file would be written under another name than
            // Git's, and two entries (Latin-1 and UTF-8 'é') would decode to one key, the last
            // silently winning. A file no decoder reads, or one ignored, only names itself.
            throw new SourceException(repoPath(dir.isEmpty() ? raw : dir + "/" + raw) + " at " + revision + " in "
                + repository + " is a name that is not valid UTF-8; names are read as UTF-8 (rename it in the"
                + " repository, or exclude it in " + IGNORE_FILE + ")");
          }
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

    /** The blob id of the ignore file directly in {@code treeId} (which {@link #ignoreFile} found there). */
    private String blobOf(ObjectId treeId) throws IOException {
      try (TreeWalk tw = TreeWalk.forPath(reader, IGNORE_FILE, treeId)) {
        return tw.getObjectId(0).name();
      }
    }

    private IgnoreNode ignoreFile(ObjectId treeId, String dir) throws IOException {
      try (TreeWalk tw = TreeWalk.forPath(reader, IGNORE_FILE, treeId)) {
        if (tw == null || tw.getFileMode(0) != FileMode.REGULAR_FILE && tw.getFileMode(0) != FileMode.EXECUTABLE_FILE) {
          return null;  // absent; a link or directory of that name is refused by the walk itself
        }
        String rel = dir.isEmpty() ? IGNORE_FILE : dir + "/" + IGNORE_FILE;
        byte[] bytes = load(tw.getObjectId(0), rel);
        checkIgnorePatterns(bytes, repoPath(rel), revision);
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

    /** A file's bytes, for whichever decoder reads it (one at a time or together): an LFS pointer is warned of. */
    private byte[] load(ObjectId blob, String rel) throws IOException {
      byte[] bytes = TreeDecoder.this.load(reader, blob, rel, revision);
      if (isLfsPointer(bytes)) {
        String warning = repoPath(rel) + " at " + revision + " in " + repository + " is a Git LFS pointer file, not"
            + " the content it stands for (LFS objects are not fetched): the pointer's " + bytes.length
            + " bytes are what is decoded";
        LOG.warn("{}", warning);
        warnings.add(warning);
      }
      return bytes;
    }

    private void file(ObjectId blob, String rel, boolean executable) throws IOException {
      Decoder decoder = null;
      int index = 0;
      for (; index < decoders.size(); index++) {
        if (decoders.get(index).claims(rel)) {
          decoder = decoders.get(index);
          break;
        }
      }
      if (decoder == null) {
        LOG.debug("{} at {}: no decoder claims it", repoPath(rel), revision);
        unclaimedPaths.add(rel);
        return;
      }
      if (decoder.decodesTogether()) {
        together.add(Map.entry(index, new String[] {rel, blob.name()}));
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
        byte[] bytes = load(blob, rel);
        SourceFile source = new SourceFile(rel, blob.name(), bytes, revision, executable);
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
      if (seen.put(key, decoded) == null) {
        seenOrder.add(key);
      }
      for (Resource r : decoded) {
        resources.add(atRevision(r));
      }
    }

    /**
     * Decodes the files of each decoder that reads them together, once per decoder; cached under
     * a digest of every (path, blob) it claimed, so a change to any one of them decodes again.
     */
    void decodeTogether() throws IOException {
      Map<Decoder, List<String[]>> byDecoder = new LinkedHashMap<>();
      for (Map.Entry<Integer, String[]> f : together) {
        byDecoder.computeIfAbsent(decoders.get(f.getKey()), d -> new ArrayList<>()).add(f.getValue());
      }
      for (Map.Entry<Decoder, List<String[]>> e : byDecoder.entrySet()) {
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

  /** The most {@code *} one segment of an ignore pattern may hold; see {@link #checkIgnorePatterns}. */
  static final int MAX_STARS_PER_SEGMENT = 3;

  /**
   * Refuses an ignore file with a pattern whose path segment holds more than {@link
   * #MAX_STARS_PER_SEGMENT} wildcards {@code *}: JGit matches such a segment with a backtracking
   * regular expression, whose time grows with the name's length to the power of the stars (four
   * on a 255-character name take over a second per name, ten take hours). A {@code **} segment
   * is matched without one and is not counted, nor is an escaped {@code \*} (one in brackets,
   * {@code [*]}, is: rare, and counting it errs on the safe side).
   *
   * @throws DecodeException naming the file, the line and what to do
   */
  static void checkIgnorePatterns(byte[] bytes, String path, String revision) {
    String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    String[] lines = text.split("\n", -1);
    for (int l = 0; l < lines.length; l++) {
      String line = lines[l];
      if (line.startsWith("#")) {
        continue;
      }
      int stars = 0;
      int most = 0;
      int segmentStart = 0;
      for (int k = 0; k <= line.length(); k++) {
        char c = k < line.length() ? line.charAt(k) : '/';  // the line's end ends its last segment
        if (c == '\\' && k + 1 < line.length()) {
          k++;  // an escaped character is literal
        } else if (c == '/') {
          boolean doubleStar = line.substring(segmentStart, Math.min(k, line.length())).strip().equals("**");
          most = Math.max(most, doubleStar ? 0 : stars);
          stars = 0;
          segmentStart = k + 1;
        } else if (c == '*') {
          stars++;
        }
      }
      if (most > MAX_STARS_PER_SEGMENT) {
        throw new DecodeException(Origin.of(path, l + 1, revision), "the pattern has " + most + " '*' in one path"
            + " segment, at most " + MAX_STARS_PER_SEGMENT + " are allowed: matching it could take hours on a long"
            + " name (git's ignore matching backtracks); write it with fewer '*', or as several patterns");
      }
    }
  }

  private byte[] load(ObjectReader reader, ObjectId blob, String rel, String revision) throws IOException {
    long size = reader.getObjectSize(blob, Constants.OBJ_BLOB);
    if (size > maxFileSize) {
      throw new DecodeException(Origin.of(rel, 0, revision), "file is " + size + " bytes, more than the limit of "
          + maxFileSize + " bytes (" + LIMIT_SETTINGS + ") in " + repository + "; list it in " + IGNORE_FILE
          + " to leave it out");
    }
    try {
      return reader.open(blob, Constants.OBJ_BLOB).getCachedBytes((int) Math.min(Integer.MAX_VALUE - 8, maxFileSize));
    } catch (LargeObjectException e) {
      throw new DecodeException(Origin.of(rel, 0, revision),
          "file is larger than " + maxFileSize + " bytes (" + repository + ")", e);
    }
  }

  private static final byte[] LFS_POINTER = "version https://git-lfs.github.com/spec/v1\n".getBytes(
      java.nio.charset.StandardCharsets.US_ASCII);

  /** Whether {@code bytes} is a Git LFS pointer file (small, starting with the spec's version line). */
  static boolean isLfsPointer(byte[] bytes) {
    return bytes.length < 1024 && bytes.length >= LFS_POINTER.length
        && java.util.Arrays.equals(bytes, 0, LFS_POINTER.length, LFS_POINTER, 0, LFS_POINTER.length);
  }

  /**
   * Why {@code name}, a tree entry's name, is one Git refuses (git fsck's fullPathname, hasDot,
   * hasDotdot, emptyName), or null when it is not: a {@code /} in it, {@code .}, {@code ..} or
   * nothing. (A NUL cannot be in a name: a tree entry's name ends at the first NUL.)
   */
  static String malformedName(String name) {
    if (name.isEmpty()) {
      return "has an empty name (git fsck: emptyName)";
    }
    if (name.equals(".") || name.equals("..")) {
      return "is named '" + name + "' (git fsck: " + (name.equals(".") ? "hasDot" : "hasDotdot") + ")";
    }
    if (name.indexOf('/') >= 0) {
      return "holds a '/' in its name (git fsck: fullPathname)";
    }
    if (name.indexOf('\0') >= 0) {
      return "holds a NUL in its name";
    }
    return null;
  }

  /**
   * Whether the path {@code rel} a recursive walk {@code tw} is at passes through an entry {@link
   * #malformedName} refuses: one of its parts is, or it holds more {@code /} than the walk's depth
   * (a parent's name held one).
   */
  static boolean malformedPath(String rel, TreeWalk tw) {
    int slashes = 0;
    for (String part : rel.split("/", -1)) {
      if (malformedName(part) != null) {
        return true;
      }
      slashes++;
    }
    return slashes - 1 != tw.getDepth() || malformedName(tw.getNameString()) != null;
  }

  /** What {@link #readSince} read: every resource, the keys it decoded, and how many files it decoded. */
  record Delta(List<Resource> resources, Set<ResourceKey> decoded, int files) {}

  /**
   * The resources of {@code treeId} at {@code revision}, given {@code records}: the resources
   * {@code beforeTree} decoded to with the same sub-path, decoders and variables. Only the files
   * that differ between the two trees are decoded; the resources of every other file are the records
   * whose origin names its path (a decoder names the file it decoded, {@link Decoder#decode}),
   * re-dated. Empty when that cannot be promised: a changed ignore file or repository config, an
   * ignore file above a changed file, a link or submodule among the changes, a changed file claimed
   * by a decoder that reads files together, a decoded resource naming another file, or a removed
   * file no record names as its origin. A decode
   * error is thrown (the caller reads in full, which reports it as a walk would). The walk state of
   * {@link #read} is left alone.
   */
  Optional<Delta> readSince(ObjectReader reader, ObjectId beforeTree, ObjectId treeId, String subPath,
      String revision, List<Decoder> decoders, Collection<Resource> records, Cancellation cancellation)
      throws IOException {
    warnings = new ArrayList<>();
    List<Decoder> configured = configured(reader, treeId, subPath, revision, decoders);
    Set<String> changed = new HashSet<>();
    List<Changed> files = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    try (TreeWalk tw = new TreeWalk(reader)) {
      tw.addTree(beforeTree);
      tw.addTree(treeId);
      tw.setRecursive(true);
      tw.setFilter(TreeFilter.ANY_DIFF);
      while (tw.next()) {
        cancellation.throwIfCancelled();
        String rel = tw.getPathString();
        if (notUtf8(rel, tw) != null) {
          LOG.debug("{} at {} is not a UTF-8 name: the full read refuses it", rel, revision);
          return Optional.empty();
        }
        FileMode was = tw.getFileMode(0);
        FileMode is = tw.getFileMode(1);
        // a path through a .git entry or a malformed name, or nested too deep: the full read refuses it, naming it
        if (malformedPath(rel, tw) || GitDirNames.gitDirSegment(rel) != null || tw.getDepth() >= MAX_DEPTH || tw.getNameString().equals(IGNORE_FILE) || rel.equals(CONFIG_FILE)
            || !plain(was) || !plain(is) || ignoreFileAbove(reader, treeId, rel) || together(configured, rel)) {
          LOG.debug("{} at {} changed in a way only a full read decides", rel, revision);
          return Optional.empty();
        }
        changed.add(rel);
        if (is != FileMode.MISSING) {
          files.add(new Changed(tw.getObjectId(1), rel, is == FileMode.EXECUTABLE_FILE));
        } else if (was != FileMode.MISSING && claimed(configured, rel)) {
          removed.add(rel);
        }
      }
    }
    if (!removed.isEmpty()) {
      // a removed file's keys are found by the origin its records name; a removed claimed file no
      // record names (a decoder that names another file, or a file that decoded to nothing) is
      // left to the full read, which never keeps a key of a file that is gone
      Set<String> named = new HashSet<>();
      for (Resource r : records) {
        named.add(r.origin().path());
      }
      for (String rel : removed) {
        if (!named.contains(rel)) {
          LOG.debug("{} was removed at {} and no record names it as its origin", rel, revision);
          return Optional.empty();
        }
      }
    }
    Walk walk = new Walk(reader, subPath, revision, configured, cancellation, Map.of());
    Set<ResourceKey> decoded = new HashSet<>();
    for (Changed f : files) {
      int from = walk.resources.size();
      walk.file(f.blob(), f.rel(), f.executable());
      for (Resource r : walk.resources.subList(from, walk.resources.size())) {
        if (!r.origin().path().equals(f.rel())) {
          LOG.debug("{} at {} decodes to {} whose origin names {}", f.rel(), revision, r.key(), r.origin().path());
          return Optional.empty();
        }
        decoded.add(r.key());
      }
    }
    List<Resource> out = new ArrayList<>(records.size() + walk.resources.size());
    for (Resource r : records) {
      if (!changed.contains(r.origin().path())) {
        out.add(walk.atRevision(r));
      }
    }
    out.addAll(walk.resources);
    return Optional.of(new Delta(out, decoded, files.size()));
  }

  /** A file of the new tree that differs from the tree before. */
  private record Changed(ObjectId blob, String rel, boolean executable) {}

  /** A regular or executable file, or nothing (one side of an added or deleted file). */
  private static boolean plain(FileMode m) {
    return m == FileMode.MISSING || m == FileMode.REGULAR_FILE || m == FileMode.EXECUTABLE_FILE;
  }

  /** Whether a decoder claims {@code rel}. */
  private static boolean claimed(List<Decoder> decoders, String rel) {
    for (Decoder d : decoders) {
      if (d.claims(rel)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the first decoder claiming {@code rel} reads its files together. */
  private static boolean together(List<Decoder> decoders, String rel) {
    for (Decoder d : decoders) {
      if (d.claims(rel)) {
        return d.decodesTogether();
      }
    }
    return false;
  }

  /** Whether a directory of {@code treeId} on the way to {@code rel} holds an ignore file. */
  private static boolean ignoreFileAbove(ObjectReader reader, ObjectId treeId, String rel) throws IOException {
    int slash = -1;
    do {
      String at = slash < 0 ? IGNORE_FILE : rel.substring(0, slash) + "/" + IGNORE_FILE;
      try (TreeWalk tw = TreeWalk.forPath(reader, at, treeId)) {
        if (tw != null) {
          return true;
        }
      }
      slash = rel.indexOf('/', slash + 1);
    } while (slash >= 0);
    return false;
  }

  /** What the last {@link #read} or {@link #readSince} warned about, one line each. */
  List<String> warnings() {
    return List.copyOf(warnings);
  }

  /**
   * Decodes every file under {@code treeId} (the tree of the sub-path) at {@code revision}. The
   * cache then holds exactly the files of this tree, which bounds it.
   */
  List<Resource> read(ObjectReader reader, ObjectId treeId, String subPath, String revision, List<Decoder> decoders,
      Cancellation cancellation) throws IOException {
    warnings = new ArrayList<>();
    List<Decoder> configured = configured(reader, treeId, subPath, revision, decoders);
    StringBuilder context = new StringBuilder(subPath).append('\0').append(variables == null ? "" : variables.digest());
    configured.forEach(d -> context.append('\0').append(d.fingerprint()));
    Walk walk = new Walk(reader, subPath, revision, configured, cancellation,
        context.toString().equals(subtreesContext) ? subtrees : Map.of());
    walk.tree(treeId, "", List.of(), false);
    walk.before = Map.of();
    walk.decodeTogether();
    cache = walk.seen;
    subtrees = walk.walked;
    subtreesContext = context.toString();
    reusedSubtrees = walk.reused;
    List<String> unread = walk.unclaimedPaths;
    unclaimed = new Unclaimed(unread.size(), List.copyOf(unread.subList(0, Math.min(SAMPLE, unread.size()))));
    return walk.resources;
  }
}

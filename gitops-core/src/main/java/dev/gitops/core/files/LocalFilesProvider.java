package dev.gitops.core.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gitops.api.Action;
import dev.gitops.api.Change;
import dev.gitops.api.DecodeException;
import dev.gitops.api.Documents;
import dev.gitops.api.Observation;
import dev.gitops.api.Origin;
import dev.gitops.api.Outcome;
import dev.gitops.api.LiveVersion;
import dev.gitops.api.OwnerMark;
import dev.gitops.api.ProviderException;
import dev.gitops.api.Resource;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.spi.CallContext;
import dev.gitops.api.spi.Decoder;
import dev.gitops.api.spi.Provider;
import dev.gitops.api.spi.SourceFile;
import dev.gitops.core.decode.Glob;
import dev.gitops.core.files.FileFormats.Format;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.FileChunks;
import dev.gitops.core.internal.fs.GitDirNames;
import dev.gitops.core.internal.fs.RealPaths;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.attribute.FileTime;
import java.nio.file.FileSystems;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local-files provider: a target directory is the live system and each file in it is one
 * resource, keyed {@code ResourceKey.of("files", "file", "", "<relative/path>")}.
 *
 * <pre>{@code
 * LocalFilesProvider files = LocalFilesProvider.builder(Path.of("/etc/myapp"))
 *     .exclude(Path.of("/etc/myapp/.gitops"))          // the state store's directory
 *     .structured("*.json", "config/*.yaml", "conf.d/**")  // merge these field by field
 *     .sensitive("config/db.yaml:/password")            // never shown, stored only hashed
 *     .build();
 * }</pre>
 *
 * <h2>Documents</h2>
 *
 * <ul>
 *   <li>A plain file is {@code {"content": "<text>", "mode": "0644"}} when its bytes are valid
 *       UTF-8 without NUL bytes (Git's test for text), else {@code {"contentBase64": "<base64>", "mode": "0644"}}. The content is a scalar,
 *       so a changed file replaces the whole text.
 *   <li>A {@code .json}, {@code .yaml} or {@code .yml} file matching a {@linkplain
 *       Builder#structured structured glob} is {@code {"data": <parsed tree>, "mode": "0644"}} (one
 *       YAML document: empty ones after it, such as a trailing {@code ---}, are not counted) and
 *       is compared structurally: the engine's three-way merge sees its fields, so fields added by
 *       hand at paths Git never owned survive a sync. It is written as Git's bytes whenever the
 *       target's data equal Git's (comments and formatting kept); when fields kept from the live
 *       file make them differ, it is rendered (pretty JSON, block YAML) with every value Git also
 *       holds spelled exactly as in Git, so {@code 0755}, {@code NO}, {@code 1.10}, {@code 0x1F},
 *       {@code ~} or {@code 1.0} never change their text. A live structured file that does not
 *       parse is observed as plain {@code content} (with a warning) so that a sync can repair it;
 *       when a target has {@code data}, any {@code content} beside it is ignored.
 *   <li>{@code mode} is the permission bits as four octal digits. A target without {@code mode}
 *       keeps the live file's mode, or gets the {@linkplain Builder#defaultMode default mode} on
 *       create. The decoder declares the default mode, or for a file Git marks executable (mode
 *       100755) the default mode with an execute bit wherever it has a read bit ({@code 0644}
 *       gives {@code 0755}); an execute bit removed by hand is drift that a sync puts back.
 * </ul>
 *
 * <h2>Secrets</h2>
 *
 * <p>{@linkplain Builder#sensitive(String, String) Sensitive rules} ({@code <glob>:<json-pointer>})
 * and the {@code files.sensitive} list of the repository's {@code .gitops.yaml} say which values
 * are secret. The decoder marks them on each resource ({@link Resource#sensitive()}), so the engine
 * redacts them in every plan, diff, event and log line — in the live file too, and after the
 * file left Git — and stores them only as keyed hashes. A pointer reaches into structured files
 * only: there {@code <pointer>} marks {@code /data<pointer>} (and {@code content}, which is what a
 * live copy that does not parse is observed as); a rule that matches any other file, or has no
 * pointer, marks the whole file. Parse errors of a file a rule matches do not quote it.
 *
 * <h2>Safety</h2>
 *
 * <p>Writes go to a temporary file, which is fsynced, given its mode, moved atomically over the
 * file, and the directory is fsynced. Temp files live in the provider's own directory {@code
 * <target>/.gitops/files/tmp/} under short names (so a name of 255 bytes can be written), and the
 * leftovers of a killed process are removed from there; the provider never deletes a file it did
 * not create (see {@link TempFiles}). No symlink inside the target is ever followed: a path with a
 * symlink component is refused (PERMANENT for apply, UNKNOWN for observe). Names that escape the
 * target ({@code ..}, absolute, empty segments) and paths under an excluded directory (the state
 * store's, {@code <target>/.gitops} always) are refused with the path named, also when spelt as a
 * case-insensitive file system (macOS, Windows) reads it as that directory ({@code .GITOPS/meta.json},
 * {@code .gitops./x}), and so are paths
 * through a {@code .gitops} directory (in any such spelling) deeper down ({@code app/.gitops/...}): that is the store and
 * ownership record of a target nested in this one, which Git content must not rewrite; so are
 * paths through a segment named like a Git directory ({@code .git} in any case, {@code git~1},
 * {@code .git.}), which in a target that is a Git work tree would be its repository. Nor is a
 * file written or deleted below a directory that holds a {@code .gitops} directory (the nested
 * target's root): its claims are in its own record, where this target's would not see them. The
 * target and the excluded directories are compared by real path (symlinks resolved) on every
 * call, so a store reached through a symlink is still out of Git's reach, and a target inside an
 * excluded directory is refused naming both. A replaced file belongs to the process's user
 * afterwards (the owner is not copied). What a write looks at, without following links: each parent directory
 * once per batch (a batch that deletes anything: once per write), and the file itself unless the
 * batch made its directory (empty when made); a link or non-directory found there fails the write
 * naming it. A directory at the file's own path that gitops did not make (the file deleted and a
 * directory made in its place), empty or not, fails the write naming it: gitops removes none.
 * The write itself is a rename, which replaces a link at the file's name rather than
 * writing through it. Checks and writes are not atomic with respect to a concurrent attacker
 * rewriting the target tree (a parent swapped for a link after it was looked at is followed by the
 * batch's later writes); the target is assumed to be writable only by trusted users. The target
 * itself (or a parent of it) may be a symbolic link, on purpose: it is resolved on every call, so
 * a link re-pointed after the provider was built ({@code current -> releases/2}) moves the next
 * sync to the directory it now names, with that directory's ownership record. There, files Git
 * declares that no owner claimed are skipped unless adoption is allowed, nothing unclaimed is
 * deleted, and the directory the link named before is left as it is. Whoever can re-point it
 * chooses where the files go, like whoever configures the target.
 *
 * <h2>Ownership</h2>
 *
 * <p>Every owner writing into one target shares its ownership record ({@link Ownership}, in
 * {@code <target>/.gitops/files/owners/}): a file is claimed for the call's owner before it is
 * first written and released after it is deleted, or when that first write fails before the file
 * exists (a full disk, an I/O error). Observations carry the claim as the file's
 * {@linkplain OwnerMark mark}, so the engine never updates or deletes a file another owner claimed
 * (it is skipped as a conflict, naming that owner), even when the two owners keep separate state
 * stores; a write or delete that races such a claim fails naming the owner. A file nobody has
 * claimed (the user's own, at a path Git names) is observed without a mark: the engine skips it
 * unless adoption is allowed ({@code --adopt}; the write then claims it) and never deletes it.
 * {@link #listMarked} lists an owner's claims, so a lost state store is noticed. It keeps the
 * listing in {@code <target>/.gitops/files/owners.listing}, bound to the claims' directory as it
 * was ({@link ClaimListing}): while no claim is made or dropped, the next listing reads that one
 * file instead of every claim (not in a {@linkplain Builder#preview preview}, which writes nothing).
 *
 * <h2>Observation</h2>
 *
 * <p>PRESENT with the document and a version token {@code <mtime nanos>-<size>-<inode>-<mode>-<ctime
 * nanos>} (the inode changes on every atomic write and the mode on every chmod, so the token changes
 * even when two writes fall in one timestamp tick; the change time, which the kernel sets on every
 * write and no user can set, moves on an edit in place that keeps the size and puts the mtime back;
 * where the file system has no "unix" attribute view the ctime part is left out); ABSENT when no such file exists, also when the path
 * (or a parent) is a directory or a file that is not a directory (so a file becoming a directory in
 * Git, or the reverse, converges: see {@link #relations}), an empty directory at the path with the
 * {@linkplain Observation#reason() reason} that the write fails until it is removed, which the plan shows; UNKNOWN, with the reason, when the path
 * or a parent is a symlink, the path is a special file (a fifo, socket or device), or it cannot be
 * read.
 *
 * <p>{@link #versions} gives the same token from one stat without reading the file, so the engine
 * reads only files whose token moved since it last verified them in sync. Likewise the observe
 * that verifies a write of this provider parses the bytes it wrote, without reading the file back,
 * while the file's token is the one it had right after the rename. What a token cannot
 * see is not seen: an edit in place within the same timestamp tick as the engine's own write or
 * verification, with the same size (file systems keep times at the kernel's clock tick, a few
 * milliseconds), or one made with the system clock set back to the file's change time.
 *
 * <p>It is thread-safe; concurrent changes to different keys are independent, concurrent changes
 * to one key end with one of them winning whole.
 */
public final class LocalFilesProvider implements Provider {
  /** The resource type of every key of this provider. */
  public static final String TYPE = "file";
  /** The default provider id. */
  public static final String DEFAULT_ID = "files";
  /** The default store directory name inside the target, always excluded. */
  public static final String DEFAULT_STORE_DIR = ".gitops";
  /** The provider's own directory inside {@link #DEFAULT_STORE_DIR}: temp files and the ownership record. */
  static final String OWN_DIR = "files";

  private static final Logger LOG = LoggerFactory.getLogger(LocalFilesProvider.class);
  /** Threads that write one batch: enough to keep a disk's queue busy with fsyncs. */
  private static final int WRITERS = 8;
  private static final int STABLE_READ_ATTEMPTS = 3;

  private final String id;
  private final Path root;
  private final List<Path> excluded;
  private final List<Glob> structured;
  private final String defaultMode;
  /** Whether this provider only shows plans: it keeps no claim listing ({@link Builder#preview}). */
  private final boolean preview;
  private final SensitiveFiles sensitive;
  private final Decoder decoder;
  /** Temp directories already cleaned of a killed process's leftovers (once per provider). */
  private final Set<Path> cleanedTemps = ConcurrentHashMap.newKeySet();
  /** Per structured key, the file as Git holds it, so a write can use Git's bytes and spelling. */
  private final Map<ResourceKey, GitText> gitTexts = new ConcurrentHashMap<>();
  /**
   * Per key, the bytes this provider just wrote and the file's token right after the rename, until
   * the next observe of the key takes them: the engine's verification of a write then reads the
   * file only when its token moved since (see {@link #observeOne}).
   */
  private final Map<ResourceKey, Written> written = new ConcurrentHashMap<>();
  /** Files read by observe, for tests. */
  private final LongAdder fileReads = new LongAdder();
  /** Claims read by {@link #markOf}, for tests (those taken from {@link #listed} not counted). */
  private final LongAdder claimReads = new LongAdder();
  /**
   * The paths the last {@link #listMarked} found claimed by its owner, for the {@link #versions} and
   * {@link #observe} of the same call (one sync's planning): each claim is read once per sync.
   */
  private volatile Listed listed;

  /**
   * Paths {@code owner} held when {@link #listMarked} read the ownership record for a call of {@code
   * ctx}. A claim an owner holds is released only by that owner (this provider, whose writes drop
   * this): for that owner, the mark read again later in the same sync is this one.
   */
  private record Listed(CallContext ctx, String owner, Set<String> paths) {

    /**
     * Whether {@code path} is known to be {@code c.owner()}'s for a call {@code c} of the same sync
     * as the listing. The engine gives each call a deadline of its own ({@link
     * CallContext#withDeadline}), so a sync is known by its cancellation token, which all its calls
     * share and no other sync has, and by its owner and revision.
     */
    boolean holds(CallContext c, String path) {
      return c.cancellation() == ctx.cancellation() && owner.equals(c.owner()) && c.revision().equals(ctx.revision())
          && paths.contains(path);
    }
  }

  /** A file as this provider wrote it: its token right after the rename, and its bytes. */
  private record Written(String token, byte[] bytes) {}

  /** Files larger than this are not remembered after their write (verification reads them back). */
  private static final int MAX_REMEMBERED = 256 * 1024;

  private LocalFilesProvider(Builder b) {
    this.id = b.id;
    this.root = b.target;
    List<Path> ex = new ArrayList<>();
    ex.add(root.resolve(DEFAULT_STORE_DIR));
    for (Path p : b.excluded) {
      Path abs = root.resolve(p).normalize();
      if (!ex.contains(abs)) {
        ex.add(abs);
      }
    }
    this.excluded = List.copyOf(ex);
    this.structured = List.copyOf(b.structured);
    this.defaultMode = b.defaultMode;
    this.preview = b.preview;
    this.sensitive = b.sensitive;
    this.decoder = new FilesDecoder(sensitive);
    if (Files.exists(root) && !Files.isDirectory(root)) {
      // a sync could write nothing there: every key would be UNKNOWN ("Not a directory") for ever
      throw new IllegalArgumentException("target " + root + " is not a directory");
    }
    try {
      layout();
    } catch (Refusal r) {
      throw new IllegalArgumentException(r.getMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot resolve the real path of target " + root + ": " + e.getMessage(), e);
    }
  }

  /**
   * A builder for a provider whose live system is the directory {@code target}.
   *
   * @throws IllegalArgumentException when {@code target} is an empty path (the working directory)
   */
  public static Builder builder(Path target) {
    return new Builder(target);
  }

  @Override
  public String id() {
    return id;
  }

  /** The target directory (absolute, normalized, as configured: symlinks are resolved on each call). */
  public Path target() {
    return root;
  }

  /** The directories no key may address (absolute, normalized), the default store directory first. */
  public List<Path> excluded() {
    return excluded;
  }

  /** The key of the file at {@code relativePath} (forward slashes) in this provider. */
  public ResourceKey keyOf(String relativePath) {
    return ResourceKey.of(id, TYPE, "", relativePath);
  }

  /** Whether the file at {@code relativePath} is exposed as a structured {@code data} tree. */
  public boolean isStructured(String relativePath) {
    if (Format.of(relativePath) == null) {
      return false;
    }
    for (Glob g : structured) {
      if (g.matches(relativePath)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The decoder that maps every file of the source to a file of the target at the same relative
   * path. Structured files that do not parse, and paths the provider would refuse, are decode
   * errors naming the file.
   */
  @Override
  public Optional<Decoder> decoder() {
    return Optional.of(decoder);
  }

  /**
   * Puts a document in its canonical form: {@code contentBase64} of text becomes {@code content}
   * (and text with NUL bytes becomes {@code contentBase64}), {@code mode} gets four digits. Observed
   * documents are already canonical; this makes hand-built ones compare equal to them.
   */
  @Override
  public JsonNode normalize(ResourceKey key, JsonNode live) {
    return FileFormats.canonical(live);
  }

  /** True: the ownership record in the target is read back as each file's mark. */
  @Override
  public boolean marksObjects() {
    return true;
  }

  /**
   * The keys of every parent directory of {@code resource}'s path, whether or not Git still
   * declares them: a file {@code x/y} replacing a file {@code x} is then created only after
   * {@code x} is deleted, and (deletes running in reverse) a file {@code x} replacing a directory
   * whose files {@code x/...} are deleted is created only after those deletes emptied it.
   */
  @Override
  public Set<ResourceKey> relations(Resource resource, Set<ResourceKey> desired) {
    ResourceKey key = resource.key();
    if (!key.provider().equals(id) || !key.type().equals(TYPE)) {
      return Set.of();
    }
    Set<ResourceKey> parents = new LinkedHashSet<>();
    String name = key.name();
    for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
      parents.add(keyOf(name.substring(0, slash)));
    }
    return parents;
  }

  /** The keys of the files {@code owner} has claimed in this target's ownership record. */
  @Override
  public Collection<ResourceKey> listMarked(String owner, CallContext ctx) {
    try {
      List<ResourceKey> out = new ArrayList<>();
      Set<String> paths = new HashSet<>();
      ownership(layout()).all(!preview).forEach((path, holder) -> {
        if (holder.equals(owner)) {
          out.add(keyOf(path));
          paths.add(path);
        }
      });
      listed = new Listed(ctx, owner, paths);
      return out;
    } catch (IOException e) {
      throw new ProviderException(null, "cannot read the ownership record of " + root + ": " + describe(e), true, e);
    }
  }

  /**
   * Drops {@code owner}'s claim on {@code key}'s path from the target's ownership record, leaving
   * the file as it is: {@link #listMarked} no longer lists it, and a sync that does not declare it
   * leaves it alone. A path nobody claims, or another owner claims, is left as it is.
   */
  @Override
  public void unmark(ResourceKey key, String owner, CallContext ctx) {
    listed = null;  // a claim is dropped
    Ownership ownership;
    try {
      ownership = ownership(layout());
    } catch (IOException e) {
      throw new ProviderException(key, "cannot read the ownership record of " + root + ": " + describe(e),
          retryable(e), e);
    }
    try {
      ownership.release(key.name(), owner);
      LOG.debug("{}: released the claim of owner '{}'", key, owner);
    } catch (Ownership.ClaimedException e) {
      // not this owner's claim: nothing of ours to remove, and another owner's claim is never touched
      LOG.debug("{}: not claimed by '{}', left as it is: {}", key, owner, e.getMessage());
    } catch (IOException e) {
      throw new ProviderException(key, "cannot drop the claim of owner '" + owner + "' in "
          + ownership.directory() + ": " + describe(e), retryable(e), e);
    }
  }

  // ---------------------------------------------------------------- layout

  /**
   * The target and the excluded directories by real path, as they are now. Each excluded
   * directory under the target counts twice: where it stands in the target and where its real
   * path leads (it may be a link to elsewhere).
   */
  /**
   * The real target, its excluded directories (real paths), and each one's names below the target
   * (null for one outside it), which every key's segments are checked against ({@link #resolve}).
   */
  private record Layout(Path root, List<Path> excluded, List<String[]> excludedNames) {
    Path own() {
      return root.resolve(DEFAULT_STORE_DIR).resolve(OWN_DIR);
    }
  }

  private Layout layout() throws IOException {
    Path realRoot = RealPaths.of(root);
    List<Path> ex = new ArrayList<>();
    for (Path e : excluded) {
      if (e.startsWith(root)) {
        ex.add(realRoot.resolve(root.relativize(e).toString()));
      }
      Path real = RealPaths.of(e);
      if (!ex.contains(real)) {
        ex.add(real);
      }
    }
    for (Path e : ex) {
      if (realRoot.startsWith(e)) {
        throw new Refusal("the target " + root + (realRoot.equals(root) ? "" : " (really " + realRoot + ")")
            + " is, or is inside, the excluded directory " + e + ": Git content written there could rewrite the"
            + " state store; choose a target outside it, or keep the store outside the target");
      }
    }
    List<String[]> names = new ArrayList<>();
    for (Path e : ex) {
      Path below = e.startsWith(realRoot) ? realRoot.relativize(e) : null;
      String[] parts = null;
      if (below != null && !below.toString().isEmpty()) {
        parts = new String[below.getNameCount()];
        for (int i = 0; i < parts.length; i++) {
          parts[i] = below.getName(i).toString();
        }
      }
      names.add(parts);
    }
    return new Layout(realRoot, List.copyOf(ex), java.util.Collections.unmodifiableList(names));
  }

  private Ownership ownership(Layout l) {
    return new Ownership(l.own().resolve("owners"));
  }

  private TempFiles temps(Layout l) {
    return new TempFiles(l.root(), l.own().resolve("tmp"), cleanedTemps);
  }

  /** Creates {@code <target>/.gitops} and the provider's directory in it, owner-only. */
  private static void createOwnDirectory(Layout l) throws IOException {
    DurableFiles.createPrivateDirectory(l.root().resolve(DEFAULT_STORE_DIR));
    DurableFiles.createPrivateDirectory(l.own());
  }

  // ---------------------------------------------------------------- observe

  /** The target's layout, or why it cannot be had. */
  private record Resolved(Layout layout, String problem) {}

  private Resolved resolvedLayout() {
    try {
      return new Resolved(layout(), null);
    } catch (Refusal | IOException e) {
      return new Resolved(null, e instanceof Refusal ? e.getMessage() : "cannot resolve the target " + root + ": "
          + describe(e));
    }
  }

  @Override
  public Map<ResourceKey, Observation> observe(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, Observation> out = new LinkedHashMap<>();
    Resolved resolved = resolvedLayout();
    if (resolved.layout() == null) {
      keys.forEach(key -> out.put(key, Observation.unknown(key, resolved.problem())));
      return out;
    }
    Layout layout = resolved.layout();
    Ownership ownership = ownership(layout);
    Listed known = listed;
    Set<Path> directories = new HashSet<>();
    Set<Path> missing = new HashSet<>();
    for (ResourceKey key : keys) {
      if (ctx.isDone()) {
        out.put(key, Observation.unknown(key, "observe cut off before " + key + ": " + why(ctx)));
        continue;
      }
      out.put(key, observeOne(layout, ownership, key, ctx, known, directories, missing));
    }
    return out;
  }

  /**
   * The version token of each regular file among {@code keys} from one stat, and its claim as the
   * mark, without reading the file: the token {@link #observe} would give it. Paths that are
   * missing, refused, behind a symlink, special or unreadable are left out (observed in full).
   * Many keys are stat'ed by chunks in parallel ({@link FileChunks}).
   */
  @Override
  public Map<ResourceKey, LiveVersion> versions(Collection<ResourceKey> keys, CallContext ctx) {
    Map<ResourceKey, LiveVersion> out = new HashMap<>(keys.size() * 4 / 3 + 1);
    Layout layout = resolvedLayout().layout();
    if (layout == null) {
      return out;  // observe says why, key by key
    }
    Ownership ownership = ownership(layout);
    Listed known = listed;
    // shared by the chunks: a parent found a real directory by one is not looked at again by another
    Set<Path> directories = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<List<LiveVersion>> chunks;
    try {
      chunks = FileChunks.map(List.copyOf(keys), (list, from, to) -> {
        List<LiveVersion> chunk = new ArrayList<>(to - from);
        for (int i = from; i < to && !ctx.isDone(); i++) {
          ResourceKey key = list.get(i);
          try {
            Path file = resolve(layout, key);
            if (!realParents(layout.root(), file, directories)) {
              continue;
            }
            Stat stat = Stat.of(file);
            if (stat != null && stat.regular) {
              chunk.add(LiveVersion.of(key, stat.token(), markOf(ownership, key, ctx, known)));
            }
          } catch (IOException | RuntimeException e) {
            LOG.debug("no version of {} without reading it ({}); it is observed in full", key, e.toString());
          }
        }
        return chunk;
      });
    } catch (IOException e) {
      throw new AssertionError("each key's failure is caught in its chunk", e);
    }
    for (List<LiveVersion> chunk : chunks) {
      for (LiveVersion v : chunk) {
        out.put(v.key(), v);
      }
    }
    return out;
  }

  /**
   * One key's observation; {@code directories} holds the parents this observe call already found to
   * be real directories (not links), which are not looked at again (most files share them), and
   * {@code missing} the directories it found absent: a file under one is absent without a stat
   * (into an empty target, one failed stat per directory rather than an exception per file).
   */
  private Observation observeOne(Layout layout, Ownership ownership, ResourceKey key, CallContext ctx, Listed known,
      Set<Path> directories, Set<Path> missing) {
    Path file;
    try {
      file = resolve(layout, key);
    } catch (Refusal r) {
      return Observation.unknown(key, r.getMessage());
    }
    try {
      // the file itself is looked at by the stats below, which tell a link, a directory and a special file
      Walk walk = walk(layout, file, directories, missing, false);
      if (walk.symlink != null) {
        return Observation.unknown(key, walk.symlink.equals(file)
            ? file + " is a symbolic link, not a regular file; refusing to follow it"
            : "refusing to follow symlink " + walk.symlink + " in the target");
      }
      if (walk.missing) {
        return Observation.absent(key);
      }
      for (int attempt = 0; attempt < STABLE_READ_ATTEMPTS; attempt++) {
        Stat before = Stat.of(file);
        if (before == null || before.directory) {
          // A directory is not this file: the file is absent. A write fails naming it; the plan says
          // so where it is empty (a directory holding files may be one whose files Git dropped, which a
          // reversed delete empties and removes first: see relations).
          return before != null && emptyDirectory(file)
              ? new Observation(key, Observation.Status.ABSENT, null, "", null, EMPTY_DIRECTORY_NOTE)
              : Observation.absent(key);
        }
        if (before.symlink) {
          return Observation.unknown(key, file + " is a symbolic link, not a regular file; refusing to follow it");
        }
        if (!before.regular) {
          return Observation.unknown(key, file + " is a special file (a fifo, socket or device), not a regular file");
        }
        if (before.size > MAX_LIVE_SIZE) {
          // never read whole: it would end the process (out of memory) instead of this one key's observation
          return Observation.unknown(key, file + " is " + before.size + " bytes, more than the " + MAX_LIVE_SIZE
              + " bytes a live file is read up to; it is left as it is (shrink, move or delete it)");
        }
        Written mine = written.remove(key);
        if (mine != null && mine.token().equals(before.token())) {
          // untouched since this provider wrote it (a write or chmod would have moved the token):
          // the bytes written are the file's, so the verification of the write needs no read
          return Observation.present(key, document(key.name(), file, mine.bytes(), before), before.token(),
              markOf(ownership, key, ctx, known));
        }
        byte[] bytes = DurableFiles.readSized(file, before.size, LinkOption.NOFOLLOW_LINKS);
        fileReads.increment();
        Stat after = Stat.of(file);
        if (after == null) {
          return Observation.absent(key);
        }
        if (after.token().equals(before.token())) {
          return Observation.present(key, document(key.name(), file, bytes, after), after.token(),
              markOf(ownership, key, ctx, known));
        }
      }
      return Observation.unknown(key, file + " kept changing while it was read");
    } catch (NoSuchFileException e) {
      return Observation.absent(key);
    } catch (NotDirectoryException e) {
      // A parent path is a regular file, so this file cannot exist.
      return Observation.absent(key);
    } catch (AccessDeniedException e) {
      return Observation.unknown(key, "cannot read " + file + ": permission denied");
    } catch (IOException e) {
      if (nameTooLong(e)) {
        // no file can have this name here, so none is there: absent (a create fails naming the file,
        // and a key whose create failed so is forgotten once Git drops it, instead of holding back
        // every deletion of the target for ever as an unobservable key would)
        return Observation.absent(key);
      }
      return Observation.unknown(key, "cannot read " + file + ": " + describe(e));
    } catch (RuntimeException e) {
      return Observation.unknown(key, "cannot read " + file + ": " + describe(e));
    }
  }

  /**
   * The largest live file observed (1 GiB): a larger one is UNKNOWN, naming its size, since its bytes
   * and their text or Base64 would not fit a Java array (above 2 GiB, whatever the heap) or would take
   * several times its size in heap; Git's own files are far smaller ({@code GitSource.Builder.maxFileSize}).
   */
  static final long MAX_LIVE_SIZE = 1L << 30;

  /**
   * {@link #markOf(Ownership, ResourceKey, String)} for a call of {@code ctx}: not read again when
   * that call's {@link #listMarked} found the path claimed by the calling owner ({@link Listed}).
   */
  private OwnerMark markOf(Ownership ownership, ResourceKey key, CallContext ctx, Listed known) throws IOException {
    if (known != null && known.holds(ctx, key.name())) {
      return new OwnerMark(ctx.owner(), key);
    }
    return markOf(ownership, key, ctx.owner());
  }

  /**
   * The claim on {@code key}'s path as a mark; null for a path nobody claimed: a file gitops did not
   * write (the user's own, or one from before gitops managed the target), which the planner skips
   * unless adoption is allowed, and never deletes.
   */
  private OwnerMark markOf(Ownership ownership, ResourceKey key, String owner) throws IOException {
    claimReads.increment();
    String holder = ownership.ownerOf(key.name(), owner);
    return holder == null ? null : new OwnerMark(holder, key);
  }

  private JsonNode document(String name, Path file, byte[] bytes, Stat stat) {
    Map<String, JsonNode> doc = null;
    if (isStructured(name)) {
      try {
        doc = new LinkedHashMap<>();
        doc.put(FileFormats.DATA, FileFormats.parse(Format.of(name), bytes));
      } catch (IOException e) {
        // Only where: a parser's message quotes the text it choked on, which may be a secret.
        LOG.warn("live file {} does not parse as {} ({}); observing it as plain content so a sync can repair it",
            file, Format.of(name), where(e));
        doc = null;
      }
    }
    if (doc == null) {
      doc = FileFormats.plain(bytes);
    }
    if (stat.mode >= 0) {
      doc.put(FileFormats.MODE, Documents.nodes().textNode(Modes.format(stat.mode)));
    }
    return Documents.object(doc);
  }

  // ---------------------------------------------------------------- apply

  @Override
  public Outcome apply(Change change, CallContext ctx) {
    listed = null;  // a write may claim or release a path
    return apply(change, ctx, DurableFiles::forceDirectory, DurableFiles::forceDirectory, null);
  }

  /** Batches are written in parallel with one directory fsync each (see {@link #applyAll}). */
  @Override
  public boolean prefersBatches() {
    return true;
  }

  /**
   * Parts of {@value #BATCH_LIMIT}: while one part's files are written and its directories forced,
   * the engine records the pending state of the next part and the outcomes of the last.
   */
  @Override
  public int batchLimit() {
    return BATCH_LIMIT;
  }

  /** The most changes one {@link #applyAll} call takes ({@link #batchLimit}). */
  private static final int BATCH_LIMIT = 1_000;

  /**
   * Applies a batch from up to {@value #WRITERS} threads, so the fsyncs of different files overlap
   * on the disk, and forces each directory a file was renamed into once, after every write of the
   * batch and before any outcome is returned: a reported write is durable, as one {@link #apply}
   * would leave it. A crash before that loses at most renames the engine has not recorded yet (their
   * pending records stand, so the next sync writes them again). The ownership claims the batch made
   * are forced the same way, their directory before the files': a claim a power loss took before
   * that belongs to a write not yet recorded either, whose pending record makes the owner's next
   * sync write and claim it again.
   */
  @Override
  public Map<ResourceKey, Outcome> applyAll(List<Change> changes, CallContext ctx) {
    listed = null;  // a write may claim or release a path
    Map<ResourceKey, Outcome> out = new LinkedHashMap<>();
    if (changes.size() <= 1) {
      changes.forEach(c -> out.put(c.key(), apply(c, ctx)));
      return out;
    }
    Set<Path> directories = ConcurrentHashMap.newKeySet();
    Set<Path> claimDirectories = ConcurrentHashMap.newKeySet();
    Batch batch = batch(changes);
    int threads = Math.min(WRITERS, changes.size());
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "gitops-files-writer");
      t.setDaemon(true);
      return t;
    });
    try {
      // one task per thread, each taking the next change until none is left: no queue hand-off
      // (and no thread wake-up) per file
      AtomicReferenceArray<Outcome> outcomes = new AtomicReferenceArray<>(changes.size());
      AtomicInteger next = new AtomicInteger();
      List<Future<?>> workers = new ArrayList<>(threads);
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < outcomes.length(); i = next.getAndIncrement()) {
            Change c = changes.get(i);
            try {
              outcomes.set(i, apply(c, ctx, directories::add, claimDirectories::add, batch));
            } catch (RuntimeException | Error e) {
              // that key's permanent failure, as a task of its own would have been; the others go on
              outcomes.set(i, fail(c.key(), "write failed: " + e, false, e));
            }
          }
        }));
      }
      String interrupted = awaitAll(workers);
      for (int i = 0; i < changes.size(); i++) {
        ResourceKey key = changes.get(i).key();
        Outcome o = outcomes.get(i);
        out.put(key, o != null ? o : Outcome.unknown(key + ": " + (interrupted != null ? interrupted
            : "not written: its writer thread ended early")));
      }
      // the claims first: a file made durable is never left unclaimed by this batch's fsyncs
      for (Path dir : claimDirectories) {
        DurableFiles.forceDirectory(dir);
      }
      for (Path dir : directories) {
        DurableFiles.forceDirectory(dir);
      }
    } catch (IOException e) {
      // forceDirectory logs and tolerates what a platform cannot do; anything else fails the batch,
      // so no write of it is reported done without its directory on disk
      throw new ProviderException(changes.get(0).key(), "cannot make the batch's renames durable: " + describe(e),
          true, e);
    } finally {
      pool.shutdownNow();
    }
    return out;
  }

  /**
   * What the writes of one batch share: the target's layout, resolved once for the batch (a single
   * {@link #apply} resolves it per call), or why it cannot be had; the parent directories found to be
   * real directories (not links) by an earlier write of the batch, which a later one does not stat
   * again, and among them those the batch made itself, whose files are not looked at before their
   * write (see {@link #write}); whether the provider's own directories were made. Directories are
   * only remembered when the batch deletes nothing: a delete may remove a parent it emptied.
   */
  private final class Batch {
    final Layout layout;
    final Refusal refusal;
    final IOException failure;
    /** Parents verified by this batch, or null when each write walks its parents afresh. */
    final Set<Path> verified;
    /** The directories this batch made (a subset of {@link #verified}), or null with it. */
    final Set<Path> created;
    final TempFiles temps;
    private volatile boolean ownDirectories;

    Batch(Layout layout, Refusal refusal, IOException failure, boolean remember) {
      this.layout = layout;
      this.refusal = refusal;
      this.failure = failure;
      this.verified = remember && layout != null ? ConcurrentHashMap.newKeySet() : null;
      this.created = verified != null ? ConcurrentHashMap.newKeySet() : null;
      this.temps = layout != null ? temps(layout) : null;
    }

    /** Creates the provider's own directories on the batch's first write. */
    void ownDirectories() throws IOException {
      if (!ownDirectories) {
        synchronized (this) {
          if (!ownDirectories) {
            createOwnDirectory(layout);
            ownDirectories = true;
          }
        }
      }
    }
  }

  private Batch batch(List<Change> changes) {
    boolean deletes = changes.stream().anyMatch(c -> c.action() == Action.DELETE);
    try {
      return new Batch(layout(), null, null, !deletes);
    } catch (Refusal r) {
      return new Batch(null, r, null, false);
    } catch (IOException e) {
      return new Batch(null, null, e, false);
    }
  }

  /**
   * Waits for every writer of a batch; null when all ended, else why not (this thread was
   * interrupted: the writes not yet taken are never started, those under way may still land).
   */
  private static String awaitAll(List<Future<?>> workers) {
    for (Future<?> w : workers) {
      try {
        w.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted while the batch was written";
      } catch (ExecutionException e) {
        // apply's own failures are caught per change; anything else leaves that key without an outcome
        LOG.warn("a writer of the batch failed: {}", e.getCause().toString());
      }
    }
    return null;
  }

  /**
   * One change; {@code directorySync} makes a written file's rename durable and {@code claimSync}
   * a new ownership claim (at once for a single call, once per directory at the end of a batch).
   */
  private Outcome apply(Change change, CallContext ctx, DurableFiles.DirectorySync directorySync,
      DurableFiles.DirectorySync claimSync, Batch batch) {
    ResourceKey key = change.key();
    if (ctx.isDone()) {
      return Outcome.unknown(key + ": not started: " + why(ctx));
    }
    Action action = change.action();
    if (action == Action.NOOP) {
      return Outcome.unchanged();
    }
    if (action == Action.SKIP) {
      return Outcome.skipped(change);
    }
    Layout layout;
    try {
      if (batch == null) {
        layout = layout();
      } else if (batch.layout != null) {
        layout = batch.layout;
      } else if (batch.refusal != null) {
        throw batch.refusal;
      } else {
        throw batch.failure;
      }
    } catch (Refusal r) {
      return fail(key, r.getMessage(), false, null);
    } catch (IOException e) {
      return fail(key, "cannot resolve the target " + root + ": " + describe(e), true, e);
    }
    switch (action) {
      case CREATE:
      case UPDATE:
      case REPLACE:
        return write(layout, change, ctx.owner(), directorySync, claimSync, batch);
      case DELETE:
        return delete(layout, key, ctx.owner());
      default:
        return fail(key, action + " is not supported by the local-files provider", false, null);
    }
  }

  private Outcome write(Layout layout, Change change, String owner, DurableFiles.DirectorySync directorySync,
      DurableFiles.DirectorySync claimSync, Batch batch) {
    ResourceKey key = change.key();
    JsonNode doc = change.target() != null ? change.target() : change.desired();
    if (doc == null || !doc.isObject()) {
      return fail(key, change.action() + " needs a target document object, got " + doc, false, null);
    }
    Path file;
    byte[] bytes;
    Integer mode;
    try {
      file = resolve(layout, key);
      bytes = contentOf(key, doc);
      mode = modeOf(doc);
    } catch (Refusal r) {
      return fail(key, r.getMessage(), false, null);
    }
    try {
      boolean remembered = batch != null && batch.verified != null;
      boolean fresh = createParents(layout, file, remembered ? batch.verified : new HashSet<>(),
          remembered ? batch.created : new HashSet<>());
      // A file in a directory this batch (or call) made is not looked at: the directory was empty
      // when made, no other write of the batch has this path, and the rename below replaces (never
      // follows) whatever else may have appeared there since. Elsewhere the file is looked at first.
      Stat existing = fresh ? null : Stat.of(file);
      if (existing != null) {
        if (existing.symlink) {
          return fail(key, "refusing to write through symlink " + file, false, null);
        }
        if (existing.directory) {
          // gitops removes no directory it did not make, even an empty one (a directory it made for
          // files Git dropped is removed once they are: removeEmptyParents)
          return fail(key, emptyDirectory(file) ? file + " is an empty directory where the file goes; gitops removes"
              + " no directory it did not make: remove it and sync again"
              : file + " is a directory (holding files gitops does not manage), cannot write a file there", false, null);
        }
        if (!existing.regular) {
          return fail(key, file + " is not a regular file", false, null);
        }
      }
      if (batch != null) {
        batch.ownDirectories();
      } else {
        createOwnDirectory(layout);
      }
      Ownership ownership = ownership(layout);
      boolean claimed = ownership.claim(key.name(), owner, claimSync, existing == null);
      int bits;
      if (existing != null) {
        // never a setuid, setgid or sticky bit: Java cannot set them, and a write clears them
        bits = mode != null ? mode : (existing.mode >= 0 ? existing.mode & 0777 : Modes.parse(defaultMode));
        // A mode that differs is written as a new file too, never by a chmod: the inode may be
        // shared (a hard link from outside the target) and must not change for the other name.
        if ((existing.mode < 0 || existing.mode == bits) && sameBytes(file, bytes)) {
          return outcomeFor(change.action());
        }
      } else {
        bits = mode != null ? mode : Modes.parse(defaultMode);
      }
      written.remove(key);
      try {
        (batch != null ? batch.temps : temps(layout)).write(file, bytes, DurableFiles.posix(file) ? Modes.toPermissions(bits) : null, directorySync);
      } catch (IOException | RuntimeException e) {
        if (claimed) {
          releaseUnwritten(ownership, key, file, owner, e);
        }
        throw e;
      }
      LOG.debug("{}: wrote {} ({} bytes, mode {})", key, file, bytes.length, Modes.format(bits));
      remember(key, file, bytes);
      return outcomeFor(change.action());
    } catch (Refusal r) {
      return fail(key, r.getMessage(), false, null);
    } catch (Ownership.ClaimedException e) {
      return fail(key, "not writing " + file + ": " + e.getMessage(), false, e);
    } catch (AccessDeniedException | NotDirectoryException e) {
      return fail(key, "cannot write " + file + ": " + describe(e), false, e);
    } catch (IOException e) {
      return fail(key, "cannot write " + file + ": " + describe(e), retryable(e), e);
    }
  }

  /**
   * Drops the claim a write made for a file that did not exist, when the write failed before the
   * file came to be (a full disk, an I/O error): the claim would otherwise outlive the failure,
   * and once Git no longer declares the file (the engine then forgets it without calling this
   * provider) it would be listed as a live object of the owner and refuse every other owner the
   * path for good. A file that is there (renamed, but its directory not forced) keeps it.
   */
  private static void releaseUnwritten(Ownership ownership, ResourceKey key, Path file, String owner, Exception failure) {
    try {
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        ownership.release(key.name(), owner);
      }
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
      LOG.warn("{}: cannot drop the claim on {} after its write failed ({}); it stays in {}", key, file, e.toString(),
          ownership.directory());
    }
  }

  /** Keeps what was just written to {@code file}, with its token, for the verification's observe. */
  private void remember(ResourceKey key, Path file, byte[] bytes) {
    if (bytes.length > MAX_REMEMBERED) {
      return;
    }
    try {
      Stat stat = Stat.of(file);
      if (stat != null && stat.regular) {
        written.put(key, new Written(stat.token(), bytes));
      }
    } catch (IOException e) {
      // nothing lost: the verification reads the file
      LOG.debug("{}: no stat of {} after writing it ({}); it is read back to verify", key, file, e.toString());
    }
  }

  /** How many files observe has read (for tests: a verified write of this provider reads none). */
  long fileReads() {
    return fileReads.sum();
  }

  /** How many ownership claims observe and versions have read (for tests: those listMarked read are not read again). */
  long claimReads() {
    return claimReads.sum();
  }

  private static Outcome outcomeFor(Action action) {
    return action == Action.CREATE ? Outcome.created() : Outcome.configured();
  }

  private byte[] contentOf(ResourceKey key, JsonNode doc) {
    JsonNode data = doc.get(FileFormats.DATA);
    if (data != null) {
      Format format = Format.of(key.name());
      if (format == null) {
        throw new Refusal("'data' is only for .json, .yaml and .yml files, not " + key.name());
      }
      try {
        GitText git = gitTexts.get(key);
        return git != null ? git.render(data) : FileFormats.render(format, data);
      } catch (JsonProcessingException e) {
        throw new Refusal("cannot render 'data' as " + format + ": " + JsonErrors.problem(e));
      } catch (IOException e) {
        throw new Refusal("cannot render 'data' as " + format + ": " + e.getMessage());
      }
    }
    JsonNode b64 = doc.get(FileFormats.CONTENT_BASE64);
    if (b64 != null) {
      if (!b64.isTextual()) {
        throw new Refusal("'contentBase64' must be a string");
      }
      try {
        return Base64.getDecoder().decode(b64.textValue());
      } catch (IllegalArgumentException e) {
        throw new Refusal("'contentBase64' is not valid base64: " + e.getMessage());
      }
    }
    JsonNode text = doc.get(FileFormats.CONTENT);
    if (text != null) {
      if (!text.isTextual()) {
        throw new Refusal("'content' must be a string, got " + text.getNodeType());
      }
      return text.textValue().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    throw new Refusal("the document needs 'content', 'contentBase64' or 'data'");
  }

  private static Integer modeOf(JsonNode doc) {
    JsonNode m = doc.get(FileFormats.MODE);
    if (m == null || m.isNull()) {
      return null;
    }
    try {
      return Modes.parse(m.isTextual() ? m.textValue() : m.toString());
    } catch (IllegalArgumentException e) {
      throw new Refusal(e.getMessage());
    }
  }

  private static boolean sameBytes(Path file, byte[] bytes) throws IOException {
    if (Files.size(file) != bytes.length) {
      return false;
    }
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      return Arrays.equals(in.readAllBytes(), bytes);
    }
  }

  /**
   * Makes the parents of {@code file} below the root, top down, refusing a parent that is a link or
   * not a directory (looked at without following links). A parent in {@code verified} was found a
   * real directory by an earlier write of this batch and is not looked at again; each one looked at
   * and found so is added, and each one made here to {@code created} as well. Returns whether the
   * file's own directory is in {@code created} (made by this batch, so empty but for its writes).
   */
  private boolean createParents(Layout layout, Path file, Set<Path> verified, Set<Path> created)
      throws IOException {
    Path base = layout.root();
    if (!verified.contains(base)) {
      if (!Files.isDirectory(base)) {
        Files.createDirectories(base);
      }
      verified.add(base);
    }
    Path parent = file.getParent();
    if (verified.contains(parent)) {
      return created.contains(parent);
    }
    Path cur = base;
    Path rel = base.relativize(parent);
    if (rel.toString().isEmpty()) {
      return false;
    }
    for (Path seg : rel) {
      cur = cur.resolve(seg.toString());
      if (verified.contains(cur)) {
        continue;
      }
      Stat s = Stat.of(cur);
      if (s == null) {
        try {
          Files.createDirectory(cur);
          created.add(cur);
          verified.add(cur);
          continue;
        } catch (FileAlreadyExistsException e) {
          // Created concurrently by another writer: check what it is below.
          s = Stat.of(cur);
        }
      }
      if (s == null) {
        throw new NoSuchFileException(cur.toString(), null, "disappeared while creating parent directories");
      }
      if (s.symlink) {
        throw new Refusal("refusing to write through symlink " + cur);
      }
      if (!s.directory) {
        throw new Refusal(cur + " is not a directory, cannot create " + file);
      }
      if (holdsStore(cur)) {
        throw nested(cur, "writing", file);
      }
      verified.add(cur);
    }
    return created.contains(parent);
  }

  /**
   * Whether {@code dir} holds a {@link #DEFAULT_STORE_DIR} directory (not followed as a link): the
   * root of another target, nested in this one. Its files are its owner's, and its claims are in its
   * own record, where this target's would not see them, so none would protect them from this one.
   */
  private static boolean holdsStore(Path dir) throws IOException {
    Stat store = Stat.of(dir.resolve(DEFAULT_STORE_DIR));
    return store != null && store.directory;
  }

  /** Why {@code file} below the nested target's root {@code dir} is not touched ({@code doing}: "writing", ...). */
  private static Refusal nested(Path dir, String doing, Path file) {
    return new Refusal(dir + " holds " + DEFAULT_STORE_DIR + "/: it is the directory of a target nested in this one,"
        + " whose files this target does not touch; not " + doing + " " + file);
  }

  /** The first directory between the target's root and {@code file} that {@link #holdsStore}, or null. */
  private static Path nestedRoot(Layout layout, Path file) throws IOException {
    Path base = layout.root();
    Path cur = base;
    for (Path seg : base.relativize(file.getParent())) {
      if (seg.toString().isEmpty()) {
        break;  // the file is at the top
      }
      cur = cur.resolve(seg.toString());
      if (holdsStore(cur)) {
        return cur;
      }
    }
    return null;
  }

  private Outcome delete(Layout layout, ResourceKey key, String owner) {
    Path file;
    try {
      file = resolve(layout, key);
    } catch (Refusal r) {
      return fail(key, r.getMessage(), false, null);
    }
    Ownership ownership = ownership(layout);
    try {
      // A killed write may have left a temp file in the directory this delete would empty.
      temps(layout).cleanOnce();
      String holder = ownership.ownerOf(key.name());
      if (holder != null && !holder.equals(owner)) {
        return fail(key, "not deleting " + file + ": it belongs to owner '" + holder + "' (ownership record in "
            + ownership.directory() + ")", false, null);
      }
      Walk walk = walk(layout, file);
      if (walk.symlink != null) {
        return fail(key, "refusing to delete through symlink " + walk.symlink, false, null);
      }
      Stat s = walk.missing ? null : Stat.of(file);
      if (s != null && s.directory) {
        // Not this file (see observe): the directory is not ours to remove.
        s = null;
      }
      Path nestedRoot = s == null ? null : nestedRoot(layout, file);
      if (nestedRoot != null) {
        // claimed before the nested target was made there: now its owner's to keep or delete
        return fail(key, nested(nestedRoot, "deleting", file).getMessage(), false, null);
      }
      if (s != null) {
        try {
          Files.delete(file);
          DurableFiles.forceDirectory(file.getParent());
          LOG.debug("{}: deleted {}", key, file);
          removeEmptyParents(layout, file.getParent());
        } catch (NoSuchFileException e) {
          // Deleted concurrently: the result is the same.
          LOG.debug("{}: {} was already gone", key, file);
        }
      }
      // The claim goes last: while it stands, no other owner can create the file this delete removes.
      ownership.release(key.name(), owner);
      gitTexts.remove(key);
      return Outcome.deleted();
    } catch (NotDirectoryException e) {
      return Outcome.deleted();
    } catch (Ownership.ClaimedException e) {
      return fail(key, "not deleting " + file + ": " + e.getMessage(), false, e);
    } catch (AccessDeniedException e) {
      return fail(key, "cannot delete " + file + ": " + describe(e), false, e);
    } catch (IOException e) {
      return fail(key, "cannot delete " + file + ": " + describe(e), retryable(e), e);
    }
  }

  /** What {@link #observeOne} says of an empty directory at a file's path (ABSENT, with this reason). */
  static final String EMPTY_DIRECTORY_NOTE = "an empty directory stands at its path, which gitops does not remove:"
      + " the write fails until it is removed";

  /** Whether the directory {@code dir} holds nothing (false once anything is in it). */
  private static boolean emptyDirectory(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    }
  }

  private void removeEmptyParents(Layout layout, Path dir) {
    Path cur = dir;
    while (cur != null && cur.startsWith(layout.root()) && !cur.equals(layout.root())
        && !layout.excluded().contains(cur)) {
      try {
        Files.delete(cur);
        LOG.debug("removed empty directory {}", cur);
      } catch (DirectoryNotEmptyException e) {
        return;
      } catch (NoSuchFileException e) {
        // Removed concurrently; keep walking up.
      } catch (IOException e) {
        // Leaving an empty directory behind is harmless; the file itself is gone.
        LOG.debug("could not remove empty directory {}: {}", cur, e.toString());
        return;
      }
      cur = cur.getParent();
    }
  }

  // ---------------------------------------------------------------- paths

  /**
   * The absolute file of {@code key} under the real target, after checking that the key is this
   * provider's, its name is a clean relative path inside the target, and it is not under an
   * excluded directory (by real path).
   */
  private Path resolve(Layout layout, ResourceKey key) {
    if (!key.provider().equals(id) || !key.type().equals(TYPE) || !key.scope().isEmpty()) {
      throw new Refusal("not a key of the local-files provider '" + id + "' (want " + id + ":" + TYPE + "::<path>)");
    }
    checkName(key.name());
    Path base = layout.root();
    Path file = base.resolve(key.name()).normalize();
    if (!file.startsWith(base) || file.equals(base)) {
      throw new Refusal("path '" + key.name() + "' escapes the target " + root);
    }
    String[] segments = key.name().split("/", -1);
    for (int e = 0; e < layout.excluded().size(); e++) {
      Path ex = layout.excluded().get(e);
      if (file.startsWith(ex) || namesOnSomeFileSystem(segments, layout.excludedNames().get(e))) {
        throw new Refusal("path '" + key.name() + "' is inside the excluded directory " + ex
            + (file.startsWith(ex) ? "" : " (the same directory on a case-insensitive file system such as macOS's"
            + " or Windows')"));
      }
    }
    // the target's own .gitops/ was refused above as excluded; one further down is the store and
    // ownership record of a target nested in this one, which Git content must not rewrite
    for (int i = 1; i < segments.length - 1; i++) {
      if (GitDirNames.sameOnSomeFileSystem(segments[i], DEFAULT_STORE_DIR)) {
        throw new Refusal("path '" + key.name() + "' is inside '" + String.join("/", Arrays.copyOf(segments, i + 1))
            + "/', a directory named like a target's state store and ownership record (that of a target nested in"
            + " this one): never written from Git");
      }
    }
    return file;
  }

  /**
   * Whether the first segments of a key name the directory whose names below the target are {@code
   * excluded} (null: one outside it) on some file system: {@code .GITOPS/meta.json} is inside {@code .gitops} on macOS and Windows.
   */
  private static boolean namesOnSomeFileSystem(String[] segments, String[] excluded) {
    if (excluded == null || segments.length < excluded.length) {
      return false;
    }
    for (int i = 0; i < excluded.length; i++) {
      if (!GitDirNames.sameOnSomeFileSystem(segments[i], excluded[i])) {
        return false;
      }
    }
    return true;
  }

  private static void checkName(String name) {
    if (name.startsWith("/")) {
      throw new Refusal("path '" + name + "' is absolute; file keys name paths relative to the target");
    }
    if (name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0) {
      throw new Refusal("path '" + name.replace("\0", "\\0") + "' contains a NUL or backslash");
    }
    for (String seg : name.split("/", -1)) {
      if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
        throw new Refusal("path '" + name + "' has an empty, '.' or '..' segment; it must stay inside the target");
      }
      if (GitDirNames.isGitDir(seg)) {
        // in a target that is a Git work tree it would be the repository itself: hooks run code
        throw new Refusal("path '" + name + "' has a segment '" + seg + "' named like a Git directory ('.git');"
            + " never written");
      }
    }
  }

  /**
   * Whether every parent of {@code file} below {@code root} is a directory (not a link), each
   * looked at without following links once per call: {@code verified} holds those already found
   * so (most files of a target share their directories).
   */
  private static boolean realParents(Path root, Path file, Set<Path> verified) throws IOException {
    Path parent = file.getParent();
    if (parent == null) {
      return false;
    }
    if (parent.equals(root) || verified.contains(parent)) {
      return true;
    }
    if (!realParents(root, parent, verified)) {
      return false;
    }
    BasicFileAttributes s = kind(parent);
    if (s == null || s.isSymbolicLink() || !s.isDirectory()) {
      return false;
    }
    verified.add(parent);
    return true;
  }

  /** Walks the parents of {@code file} below the root, then the file, without following links. */
  private static Walk walk(Layout layout, Path file) throws IOException {
    return walk(layout, file, new HashSet<>(), new HashSet<>(), true);
  }

  /**
   * Walks the parents of {@code file} below the root without following links, skipping those in
   * {@code verified} (found real directories earlier by the same caller) and adding each one found
   * so, and taking the file as missing under a directory in {@code missing} (found absent earlier by
   * the same caller) and adding each one found absent; then the file itself when {@code checkFile}.
   */
  private static Walk walk(Layout layout, Path file, Set<Path> verified, Set<Path> missing, boolean checkFile)
      throws IOException {
    Path base = layout.root();
    Path parent = file.getParent();
    Path rel = base.relativize(parent);
    Path cur = base;
    if (!rel.toString().isEmpty() && !verified.contains(parent)) {
      for (Path seg : rel) {
        cur = cur.resolve(seg.toString());
        if (verified.contains(cur)) {
          continue;
        }
        if (missing.contains(cur)) {
          return new Walk(true, null);
        }
        BasicFileAttributes s = kind(cur);
        if (s == null) {
          missing.add(cur);
          return new Walk(true, null);
        }
        if (s.isSymbolicLink()) {
          return new Walk(false, cur);
        }
        if (!s.isDirectory()) {
          return new Walk(true, null);
        }
        verified.add(cur);
      }
    }
    if (!checkFile) {
      return new Walk(false, null);
    }
    BasicFileAttributes s = kind(file);
    if (s == null) {
      return new Walk(true, null);
    }
    return new Walk(false, s.isSymbolicLink() ? file : null);
  }

  /**
   * What is at {@code p} (not following links), or null when nothing is: the basic attributes
   * only, as the walk needs no mode or inode (one stat, no permission set or file key built).
   */
  private static BasicFileAttributes kind(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }


  private record Walk(boolean missing, Path symlink) {}

  /**
   * File attributes read without following links; the token changes with content, inode, mode
   * and the change time (ctime: set by the kernel on every write, chmod or rename, and not
   * settable by users, so an edit in place that keeps the size and puts the mtime back moves it).
   */
  record Stat(boolean regular, boolean directory, boolean symlink, long size, long mtimeNanos, String inode,
      int mode, long ctimeNanos) {

    /** The attributes of {@code p}, or null when nothing is there. */
    static Stat of(Path p) throws IOException {
      if (UNIX_VIEW) {
        try {
          // one stat through the "unix" view, which alone has the change time (and dev/ino as numbers)
          Map<String, Object> a = Files.readAttributes(p, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
          int mode = (Integer) a.get("mode");
          int type = mode & 0170000;
          return new Stat(type == 0100000, type == 0040000, type == 0120000, (Long) a.get("size"),
              ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
              // the setuid, setgid and sticky bits too: a desired mode never has them, so one set by hand is drift
              Long.toHexString((Long) a.get("dev")) + "." + a.get("ino"), mode & 07777,
              ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS));
        } catch (NoSuchFileException e) {
          return null;
        } catch (UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
          // no "unix" view here: the POSIX view below, without the change time
        }
      }
      try {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new Stat(a.isRegularFile(), a.isDirectory(), a.isSymbolicLink(), a.size(),
            a.lastModifiedTime().to(TimeUnit.NANOSECONDS), inodeOf(a), Modes.fromPermissions(a.permissions()), -1);
      } catch (NoSuchFileException e) {
        return null;
      } catch (UnsupportedOperationException e) {
        // No POSIX view (a non-POSIX file system): fall back to basic attributes without a mode.
        try {
          BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
          return new Stat(a.isRegularFile(), a.isDirectory(), a.isSymbolicLink(), a.size(),
              a.lastModifiedTime().to(TimeUnit.NANOSECONDS), String.valueOf(a.fileKey()), -1, -1);
        } catch (NoSuchFileException e2) {
          return null;
        }
      }
    }

    private static final String UNIX_ATTRIBUTES = "unix:mode,size,lastModifiedTime,ctime,dev,ino";
    private static final boolean UNIX_VIEW = FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

    private static String inodeOf(PosixFileAttributes a) {
      Object k = a.fileKey();
      if (k == null) {
        return "";
      }
      // On Unix the key prints as "(dev=..,ino=..)"; keep only the hex digits and separators (a
      // loop, not a regex: this runs for every file of every observe).
      String s = k.toString();
      StringBuilder sb = new StringBuilder(s.length());
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == ',') {
          sb.append('.');
        } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
          sb.append(c);
        }
      }
      return sb.toString();
    }

    String token() {
      // one builder of the token's usual length (about 60 characters), not one grown from 16 twice
      StringBuilder sb = new StringBuilder(80).append(mtimeNanos).append('-').append(size).append('-').append(inode)
          .append('-');
      if (mode >= 0) {
        sb.append(Modes.format(mode));
      }
      if (ctimeNanos >= 0) {
        sb.append('-').append(ctimeNanos);
      }
      return sb.toString();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Outcome fail(ResourceKey key, String message, boolean retryable, Throwable cause) {
    ProviderException e = new ProviderException(key, message, retryable, cause);
    if (retryable) {
      LOG.debug("transient failure: {}", e.getMessage());
      return Outcome.transientFailure(e.getMessage(), e);
    }
    LOG.debug("permanent failure: {}", e.getMessage());
    return Outcome.permanentFailure(e.getMessage(), e);
  }

  /** Where a parse failed ({@code line 3, column 7}), without the parser's message. */
  private static String where(IOException e) {
    if (e instanceof JsonProcessingException j && j.getLocation() != null) {
      return "line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr();
    }
    return e.getClass().getSimpleName();
  }

  private static String why(CallContext ctx) {
    return ctx.cancellation().isCancelled() ? "cancelled (" + ctx.cancellation().reason() + ")" : "deadline passed";
  }

  /**
   * The reasons ({@code strerror} texts) of file system failures that no retry mends: a name too
   * long for the file system (ENAMETOOLONG), a read-only file system (EROFS), an immutable or
   * append-only file ({@code chattr +i}: EPERM). Retrying them only delays the failure by the
   * retries' backoff.
   */
  private static final Set<String> PERMANENT_REASONS = Set.of("File name too long", "Read-only file system",
      "Operation not permitted");

  /** Whether {@code e} says a name (or the whole path) is longer than the file system takes (ENAMETOOLONG). */
  static boolean nameTooLong(IOException e) {
    return e instanceof FileSystemException f && f.getReason() != null
        && f.getReason().strip().equals("File name too long");
  }

  /** Whether a write or delete failing with {@code e} may succeed when retried; an unknown reason may. */
  static boolean retryable(IOException e) {
    return !(e instanceof FileSystemException f && f.getReason() != null
        && PERMANENT_REASONS.contains(f.getReason().strip()));
  }

  private static String describe(Exception e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** A path or document the provider refuses; its message names the path. */
  private static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refusal(String message) {
      super(message, null, false, false);
    }
  }

  // ---------------------------------------------------------------- decoder

  /** Maps every source file to the target file at the same relative path. */
  private final class FilesDecoder implements Decoder {

    /** The builder's sensitive rules, and those of the repository config once {@link #configure}d. */
    private final SensitiveFiles rules;

    FilesDecoder(SensitiveFiles rules) {
      this.rules = rules;
    }

    /**
     * The layout the files of one revision are checked against, resolved once per revision rather
     * than once per file (each resolution follows the target's and the store's real paths, about
     * nine system calls). Decoding only refuses keys early: every write resolves the layout afresh.
     */
    private Layout layoutFor(String revision) throws IOException {
      synchronized (this) {
        if (decodeLayout != null && Objects.equals(decodeRevision, revision)) {
          return decodeLayout;
        }
      }
      Layout l = layout();
      synchronized (this) {
        decodeRevision = revision;
        decodeLayout = l;
      }
      return l;
    }

    private String decodeRevision;
    private Layout decodeLayout;

    @Override
    public boolean claims(String path) {
      return true;
    }

    @Override
    public List<Resource> decode(SourceFile file) {
      String path = file.path();
      Origin origin = Origin.of(path, 1, file.revision());
      ResourceKey key;
      try {
        key = keyOf(path);
        resolve(layoutFor(file.revision()), key);
      } catch (Refusal | IllegalArgumentException e) {
        throw new DecodeException(origin, e.getMessage());
      } catch (IOException e) {
        throw new DecodeException(origin, "cannot resolve the target " + root + ": " + describe(e), e);
      }
      Map<String, JsonNode> doc;
      if (isStructured(path)) {
        doc = new LinkedHashMap<>();
        JsonNode data;
        try {
          data = FileFormats.parse(Format.of(path), file.content());
        } catch (JsonProcessingException e) {
          int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
          throw new DecodeException(Origin.of(path, line, file.revision()),
              "not valid " + Format.of(path) + ": " + problem(path, JsonErrors.problem(e)), e);
        } catch (IOException e) {
          throw new DecodeException(origin, "not valid " + Format.of(path) + ": " + problem(path, e.getMessage()), e);
        }
        doc.put(FileFormats.DATA, data);
        gitTexts.put(key, new GitText(Format.of(path), file.content().clone(), data));
      } else {
        doc = FileFormats.plain(file.content());
      }
      doc.put(FileFormats.MODE, Documents.nodes().textNode(file.executable() ? Modes.executable(defaultMode) : defaultMode));
      return List.of(Resource.builder(key).document(Documents.object(doc)).origin(origin)
          .sensitive(rules.marks(path, isStructured(path))).build());
    }

    @Override
    public String fingerprint() {
      return LocalFilesProvider.class.getName() + "|" + id + "|" + structured + "|" + defaultMode + "|" + excluded
          + "|" + rules;
    }

    /** This decoder with the {@code files.sensitive} rules of the repository's config file added. */
    @Override
    public Decoder configure(SourceFile repositoryConfig) {
      List<SensitiveFiles.Rule> more = SensitiveFiles.fromConfig(repositoryConfig);
      return more.isEmpty() ? this : new FilesDecoder(rules.plus(more));
    }

    /** A parser's message, unless the file holds secrets: the message may quote the text it choked on. */
    private String problem(String path, String message) {
      return rules.matches(path) ? "(details withheld: the file matches a sensitive rule)" : message;
    }
  }

  // ---------------------------------------------------------------- builder

  /** Builds {@link LocalFilesProvider}. */
  public static final class Builder {
    private final Path target;
    private String id = DEFAULT_ID;
    private final List<Path> excluded = new ArrayList<>();
    private final List<Glob> structured = new ArrayList<>();
    private String defaultMode = "0644";
    private SensitiveFiles sensitive = SensitiveFiles.NONE;
    private boolean preview;

    private Builder(Path target) {
      if (Objects.requireNonNull(target, "target").toString().isEmpty()) {
        // Path.of("") is the working directory (an unset setting, say): Git's files would land among whatever is there
        throw new IllegalArgumentException("the target directory is an empty path; give the directory to keep in"
            + " line with Git, Path.of(\"/etc/myapp\") for example");
      }
      this.target = target.toAbsolutePath().normalize();
    }

    /** The provider id keys name (default {@code files}). */
    public Builder id(String providerId) {
      Objects.requireNonNull(providerId, "id");
      if (providerId.isEmpty()) {
        throw new IllegalArgumentException("provider id must not be empty");
      }
      this.id = providerId;
      return this;
    }

    /**
     * Adds a directory no key may address, typically the state store's. A relative path is taken
     * relative to the target. {@code <target>/.gitops} is always excluded.
     */
    public Builder exclude(Path dir) {
      excluded.add(Objects.requireNonNull(dir, "dir"));
      return this;
    }

    /**
     * Globs (relative paths, {@code *}, {@code ?}, {@code **}, {@code {a,b}}) of JSON/YAML files to
     * expose as structured {@code data}, so hand-added fields survive the three-way merge.
     * Matching files must end in {@code .json}, {@code .yaml} or {@code .yml}; others stay plain.
     */
    public Builder structured(String... globs) {
      for (String g : globs) {
        structured.add(Glob.of(g));
      }
      return this;
    }

    /**
     * Values at {@code pointer} (a JSON-pointer pattern with {@code *} and {@code **}, as in
     * {@link dev.gitops.api.PathPattern}) in the files matching {@code glob} are sensitive: redacted
     * in every plan, diff, event and log line, and kept in the state store only as keyed hashes. A
     * pointer reaches into structured files only (see {@link #structured}); a rule matching any
     * other file, or with an empty pointer or {@code "/"}, makes the whole file sensitive.
     *
     * <pre>{@code
     * LocalFilesProvider.builder(dir).structured("k8s/*.yaml").sensitive("k8s/*-secret.yaml", "/data/*");
     * }</pre>
     *
     * @throws IllegalArgumentException naming the rule when the glob or pointer is malformed
     */
    public Builder sensitive(String glob, String pointer) {
      String text = pointer == null || pointer.isEmpty() ? glob : glob + ":" + pointer;
      sensitive = sensitive.plus(List.of(SensitiveFiles.rule(glob, pointer, text)));
      return this;
    }

    /**
     * A sensitive rule written {@code <glob>:<json-pointer>} (or {@code <glob>} for the whole file),
     * as the CLI's {@code --sensitive} and the repository config's {@code files.sensitive} take it;
     * see {@link #sensitive(String, String)}.
     *
     * @throws IllegalArgumentException naming the rule when it is malformed
     */
    public Builder sensitive(String rule) {
      sensitive = sensitive.plus(List.of(SensitiveFiles.parse(rule)));
      return this;
    }

    /** The mode of created files whose target has none, and the mode the decoder declares (default 0644). */
    public Builder defaultMode(String octal) {
      this.defaultMode = Modes.canonical(octal);
      return this;
    }

    /**
     * A provider for a command that only shows a plan ({@code gitops plan}, {@code diff}, {@code
     * status}; default false): it writes nothing into the target on its own, not even the listing
     * of the target's ownership claims that {@link #listMarked} otherwise keeps beside them, so that
     * the next call reads one file instead of every claim while no claim changed.
     *
     * <pre>{@code
     * LocalFilesProvider preview = LocalFilesProvider.builder(dir).preview(true).build();
     * }</pre>
     */
    public Builder preview(boolean preview) {
      this.preview = preview;
      return this;
    }

    /**
     * The provider.
     *
     * @throws IllegalArgumentException when the target exists and is not a directory, or is (or is
     *     inside) a directory it excludes
     */
    public LocalFilesProvider build() {
      return new LocalFilesProvider(this);
    }
  }
}

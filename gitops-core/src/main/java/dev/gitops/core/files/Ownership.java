package dev.gitops.core.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gitops.core.internal.JsonErrors;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.internal.fs.FileChunks;
import dev.gitops.core.internal.fs.KeyFileNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-target ownership record of the local-files provider: one small file per claimed path
 * in {@code <target>/.gitops/files/owners/}, holding the owner id and the path. It is shared by
 * every reconciler that writes into the target, whichever state store each one uses, so two
 * owners never write or delete each other's files.
 *
 * <p>A claim is made atomically (a symbolic link, or a hard link, that fails when the name is
 * taken), so two owners racing for one path cannot both win, and no lock is needed. A claim is made
 * before a file is first written and removed after the file is deleted, so it covers the file for
 * its whole life; a crash between the two leaves a claim on an absent file, which only its owner
 * can reuse. Claim files are named like store entries ({@link KeyFileNames}), so any path fits a
 * file name.
 *
 * <p>A claim is written as a symbolic link, only read, never followed: the record lives in the
 * link itself, so creating it and forcing the directory once makes it durable, where a regular
 * file needs its own fsync as well (which made the claims of a first sync cost as much as the
 * files). Its target text is {@value #OWNER_PREFIX} and the owner when the claim's name spells
 * the whole path ({@link KeyFileNames#textOf}) and the text fits in {@value #MAX_COMPACT} bytes,
 * the size ext4 and others keep inside the inode, with no data block to allocate and write (which
 * was half of a claim's cost in a first sync); otherwise {@value #LINK_PREFIX} and the record's JSON
 * in URL-safe Base64 (the form earlier versions always wrote). Where the file system has no
 * symbolic links, or the record is too long for one, the claim is a regular file holding the
 * JSON, made durable and then hard-linked into place; claims of every kind are read.
 */
final class Ownership {

  private static final Logger LOG = LoggerFactory.getLogger(Ownership.class);
  /** The largest claim file read: one path (at most a few KB on any file system) and one owner. */
  private static final long MAX_CLAIM_BYTES = 1L << 20;
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final String OWNER = "owner";
  private static final String PATH = "path";
  /** What the target of a claim's symbolic link starts with; the Base64 of the record follows. */
  static final String LINK_PREFIX = "gitops-claim.";
  /** What the target of a compact claim's link starts with; the owner follows, the path is the claim's name. */
  static final String OWNER_PREFIX = "gitops-owner.";
  /** The longest compact link target: one the file system keeps inside the inode (ext4: under 60 bytes). */
  static final int MAX_COMPACT = 59;
  /** The longest link target written; longer records (very long paths) go to a claim file. */
  private static final int MAX_LINK = 1024;

  private final Path dir;
  /** The wall clock in milliseconds, which a directory's change time is compared with. */
  private final LongSupplier clock;

  /** The record kept in {@code dir} (created on the first claim). */
  Ownership(Path dir) {
    this(dir, System::currentTimeMillis);
  }

  /** The record kept in {@code dir}, with {@code clock} as the wall clock (tests). */
  Ownership(Path dir, LongSupplier clock) {
    this.dir = dir;
    this.clock = clock;
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
  String ownerOf(String path, String likely) throws IOException {
    String name = KeyFileNames.of(path);
    String text = linkText(likely, path, name);
    if (text != null) {
      // The claim {@code likely} would write is recognised by its link text alone, without decoding
      // and parsing it (observe asks this for every file); anything else (another owner's, or one
      // an earlier version wrote in the record form) is read in full.
      try {
        if (Files.readSymbolicLink(dir.resolve(name)).toString().equals(text)) {
          return likely;
        }
      } catch (NoSuchFileException e) {
        return null;
      } catch (NotLinkException | UnsupportedOperationException e) {
        // a claim file, or no links here: read below
      }
    }
    return ownerOf(path);
  }

  /**
   * The link text {@link #create} writes for {@code owner}'s claim on {@code path}: the compact
   * form where it fits ({@link #compactText}), else Jackson's compact JSON of the record in Base64
   * ({@link #recordText}); null when neither can be known without Jackson (the owner or, for a
   * record, the path holds a character JSON escapes).
   */
  static String linkText(String owner, String path) {
    return linkText(owner, path, KeyFileNames.of(path));
  }

  private static String linkText(String owner, String path, String name) {
    String compact = compactText(owner, path, name);
    return compact != null ? compact : recordText(owner, path);
  }

  /**
   * The compact link text of {@code owner}'s claim on {@code path} named {@code name}, or null when
   * the name does not spell the whole path: a shortened name, or a path holding a surrogate (an
   * unpaired one is encoded as '?', which would read back as another path; paths from Git never
   * hold one, and a pair is rare enough to take the record form too); or when the owner holds a
   * character JSON escapes, or the text would not fit in the inode.
   */
  static String compactText(String owner, String path, String name) {
    if (!plainJson(owner) || OWNER_PREFIX.length() + owner.length() > MAX_COMPACT || name.indexOf('~') >= 0) {
      return null;
    }
    for (int i = 0; i < path.length(); i++) {
      if (Character.isSurrogate(path.charAt(i))) {
        return null;
      }
    }
    return OWNER_PREFIX + owner;
  }

  /**
   * The Base64 link text of {@code owner}'s claim on {@code path} (Jackson's compact JSON of the
   * record), or null when either holds a character JSON escapes.
   */
  static String recordText(String owner, String path) {
    if (!plainJson(owner) || !plainJson(path)) {
      return null;
    }
    String json = "{\"" + OWNER + "\":\"" + owner + "\",\"" + PATH + "\":\"" + path + "\"}";
    return LINK_PREFIX + Base64.getUrlEncoder().withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.US_ASCII));
  }

  private static boolean plainJson(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }

  String ownerOf(String path) throws IOException {
    Path f = dir.resolve(KeyFileNames.of(path));
    Map<String, String> claim = readClaim(f);
    return claim == null ? null : claim.get(path);
  }

  /**
   * The claim recorded at {@code f} (one path and its owner), or null when there is none: a symbolic
   * link's target is read without following it, a regular file's bytes are read.
   */
  private static Map<String, String> readClaim(Path f) throws IOException {
    return readClaim(f, new AtomicBoolean());
  }

  /** {@link #readClaim(Path)}, setting {@code file} when the claim is a regular file rather than a link. */
  private static Map<String, String> readClaim(Path f, AtomicBoolean file) throws IOException {
    String link;
    try {
      link = Files.readSymbolicLink(f).toString();
    } catch (NoSuchFileException e) {
      return null;
    } catch (NotLinkException e) {
      file.set(true);
      byte[] bytes;
      try {
        // a FIFO where a claim was is not opened: the open would wait for a writer
        bytes = DurableFiles.readRegular(f, MAX_CLAIM_BYTES, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e2) {
        return null;  // released between the two reads
      } catch (IOException e2) {
        // a directory, say, where a claim was: the message alone ("Is a directory") names no file
        throw new IOException("cannot read ownership record " + f + (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)
            ? ": it is a directory, not a claim" : ": " + e2.getMessage()), e2);
      }
      return read(f, bytes);
    }
    if (link.startsWith(OWNER_PREFIX)) {
      String path = KeyFileNames.textOf(f.getFileName().toString());
      if (path == null) {
        throw new IOException("ownership record " + f + " is damaged: a claim naming only its owner ('" + link
            + "') under a name that does not spell its path");
      }
      return Map.of(path, link.substring(OWNER_PREFIX.length()));
    }
    if (!link.startsWith(LINK_PREFIX)) {
      throw new IOException("ownership record " + f + " is a symbolic link to '" + link + "', not a claim");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(link.substring(LINK_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IOException("ownership record " + f + " is damaged: its link is not Base64: " + e.getMessage(), e);
    }
    return read(f, bytes);
  }


  /**
   * Claims {@code path} for {@code owner}, durably at once; a claim the owner already holds is kept.
   *
   * @throws ClaimedException when another owner holds it
   */
  void claim(String path, String owner) throws IOException {
    claim(path, owner, DurableFiles::forceDirectory);
  }

  /**
   * {@link #claim(String, String)}, handing the directory of a new claim to {@code directorySync}:
   * a batch forces it once for all its claims, before it reports any write done.
   *
   * @throws ClaimedException when another owner holds it
   */
  void claim(String path, String owner, DurableFiles.DirectorySync directorySync) throws IOException {
    claim(path, owner, directorySync, false);
  }

  /**
   * {@link #claim(String, String, DurableFiles.DirectorySync)}; when {@code likelyFree} (the file is
   * absent, so most likely nobody claimed it) the claim is made first and read only when its name
   * is taken, rather than read first: one system call for a new file instead of a failed read, and
   * the same result either way (making a claim fails when the name is taken).
   *
   * @return true when this call made the claim, false when the owner held it already
   * @throws ClaimedException when another owner holds it
   */
  boolean claim(String path, String owner, DurableFiles.DirectorySync directorySync, boolean likelyFree)
      throws IOException {
    String holder = likelyFree ? null : ownerOf(path);
    if (holder == null) {
      ObjectNode n = JSON.createObjectNode().put(OWNER, owner).put(PATH, path);
      Path f = dir.resolve(KeyFileNames.of(path));
      if (create(f, compactText(owner, path, f.getFileName().toString()), JSON.writeValueAsBytes(n), directorySync)) {
        LOG.debug("owner {} claimed {}", owner, path);
        return true;
      }
      // The name is taken (by another owner between the read and the link, or by a claim made earlier)
      holder = ownerOf(path);
    }
    if (!owner.equals(holder)) {
      throw new ClaimedException(path, holder, dir.resolve(KeyFileNames.of(path)));
    }
    return false;
  }

  /**
   * Creates the claim {@code f} holding {@code record}; false when the name is taken. A symbolic
   * link first (durable once {@code directorySync} forced its directory), to {@code compact} when
   * not null, else to the record in Base64; a forced and hard-linked regular file where links cannot
   * be made. The record's directory is made when the claim finds it missing (not looked at before
   * each claim).
   */
  private boolean create(Path f, String compact, byte[] record, DurableFiles.DirectorySync directorySync)
      throws IOException {
    String text = compact != null ? compact
        : LINK_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(record);
    if (text.length() <= MAX_LINK) {
      for (int attempt = 0; ; attempt++) {
        try {
          Files.createSymbolicLink(f, f.getFileSystem().getPath(text));
          directorySync.force(f.getParent());
          return true;
        } catch (FileAlreadyExistsException e) {
          return false;
        } catch (NoSuchFileException e) {
          if (attempt > 0) {
            throw e;
          }
          DurableFiles.createPrivateDirectory(dir);
        } catch (UnsupportedOperationException | FileSystemException e) {
          // No symbolic links here (some file systems refuse them): the regular-file claim below.
          LOG.debug("cannot claim {} by a symbolic link ({}); writing a claim file", f, e.toString());
          break;
        }
      }
    }
    DurableFiles.createPrivateDirectory(dir);
    return DurableFiles.writeNew(f, record);
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

  /**
   * Every claimed path and its owner, sorted by path (empty when nothing was ever claimed). The
   * claims are read by chunks in parallel ({@link FileChunks}); of several damaged ones, the first
   * listed is reported. When {@code keep}, the listing of a settled directory of links is kept for
   * the next call, which takes it as long as the directory is unchanged ({@link ClaimListing}).
   */
  Map<String, String> all(boolean keep) throws IOException {
    LocalFilesProvider.Stat before = LocalFilesProvider.Stat.of(dir);
    if (before == null || !before.directory()) {
      return new TreeMap<>();
    }
    // only where the change time is known: a modification time alone can be set back by hand
    boolean bound = before.ctimeNanos() >= 0;
    Path listing = dir.resolveSibling(ClaimListing.FILE);
    if (bound) {
      Map<String, String> kept = ClaimListing.read(listing, before.token());
      if (kept != null) {
        return kept;
      }
    }
    long started = clock.getAsLong();
    List<Path> claims = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path f : ds) {
        String name = f.getFileName().toString();
        if (name.startsWith(DurableFiles.TEMP_PREFIX) || !name.endsWith(KeyFileNames.SUFFIX)) {
          // the temp file of a claim in progress (or cut short by a crash): not a claim yet
          continue;
        }
        claims.add(f);
      }
    }
    AtomicBoolean files = new AtomicBoolean();
    List<List<Map<String, String>>> read = FileChunks.map(claims, (list, from, to) -> {
      List<Map<String, String>> chunk = new ArrayList<>(to - from);
      for (int i = from; i < to; i++) {
        Map<String, String> claim = readClaim(list.get(i), files);
        if (claim != null) {  // null: released while listing
          chunk.add(claim);
        }
      }
      return chunk;
    });
    Map<String, String> out = new TreeMap<>();
    for (List<Map<String, String>> chunk : read) {
      chunk.forEach(out::putAll);
    }
    if (keep && bound && !files.get() && before.ctimeNanos() / 1_000_000 <= started - ClaimListing.SETTLED_MILLIS
        && before.equals(LocalFilesProvider.Stat.of(dir))) {
      ClaimListing.write(listing, before.token(), out);
    }
    return out;
  }

  private static Map<String, String> read(Path f, byte[] bytes) throws IOException {
    Map<String, String> plain = plainRecord(bytes);
    if (plain != null && f.getFileName().toString().equals(KeyFileNames.of(plain.keySet().iterator().next()))) {
      return plain;
    }
    JsonNode n;
    try {
      n = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new IOException("ownership record " + f + " is not valid JSON (" + JsonErrors.problem(e)
          + JsonErrors.at(e) + ")", e);
    } catch (IOException e) {
      // bad bytes surface as a CharConversionException, which is no JsonProcessingException
      throw new IOException("ownership record " + f + " is not valid JSON (" + e.getMessage() + ")", e);
    }
    JsonNode owner = n == null ? null : n.get(OWNER);
    JsonNode path = n == null ? null : n.get(PATH);
    if (owner == null || !owner.isTextual() || path == null || !path.isTextual()
        || !f.getFileName().toString().equals(KeyFileNames.of(path.textValue()))) {
      throw new IOException("ownership record " + f + " is damaged: want {\"owner\": ..., \"path\": ...} for the path"
          + " its name stands for, got " + (bytes.length == 0 ? "an empty file" : quoted(bytes)));
    }
    return Map.of(path.textValue(), owner.textValue());
  }

  /** The start of a damaged record as text, for a message: at most {@value #QUOTED} characters. */
  private static String quoted(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    return text.length() <= QUOTED ? text : text.substring(0, QUOTED) + "... (" + bytes.length + " bytes)";
  }

  private static final int QUOTED = 200;

  /**
   * The record {@link #recordText} writes, {@code {"owner":"O","path":"P"}} with neither holding a
   * character JSON escapes, read without a JSON parser (listing the claims reads one per file);
   * null for anything else, which is parsed in full.
   */
  static Map<String, String> plainRecord(byte[] bytes) {
    String head = "{\"" + OWNER + "\":\"";
    String middle = "\",\"" + PATH + "\":\"";
    String tail = "\"}";
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int owner = head.length();
    int ownerEnd = text.indexOf('"', owner);
    if (!text.startsWith(head) || ownerEnd < 0 || !text.startsWith(middle, ownerEnd) || !text.endsWith(tail)) {
      return null;
    }
    int path = ownerEnd + middle.length();
    int pathEnd = text.length() - tail.length();
    if (pathEnd < path) {
      return null;
    }
    String o = text.substring(owner, ownerEnd);
    String p = text.substring(path, pathEnd);
    return plainJson(o) && plainJson(p) ? Map.of(p, o) : null;
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

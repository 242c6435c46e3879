package dev.gitops.core.files;

import dev.gitops.core.internal.fs.DurableFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listing of an ownership record's claims, kept in a file beside the claims' directory so that
 * the next listing of an unchanged directory reads one file instead of one link per claim (10,000
 * link reads were a tenth of a no-change sync of 10,000 files).
 *
 * <p>The listing is bound to the directory's attributes as they were before it was read: inode,
 * mode, size, modification time and change time ({@link LocalFilesProvider.Stat#token}). Making,
 * replacing or removing a claim is a change of the directory's entries, which sets its change
 * time (and the change time cannot be set by users); a claim is a symbolic link, whose text cannot
 * be changed in place. So a listing whose directory still has those attributes is the directory's
 * content. Two guards close the gaps: a listing is kept only when every claim was a link (a claim
 * file's bytes could be rewritten in place), and only when the directory had not changed for
 * {@link #SETTLED_MILLIS} before it was read, so that a change in the same tick of the file
 * system's clock as the one before it (which may leave the change time as it was) cannot be
 * missed. The file is a cache: written without an fsync and checked by a CRC, it is read only
 * when whole; anything else about it (absent, torn, another version's, another directory's) makes
 * the claims be read one by one, as without it.
 */
final class ClaimListing {

  private static final Logger LOG = LoggerFactory.getLogger(ClaimListing.class);

  /** The file's name, beside the claims' directory (not in it: writing it must not change what it describes). */
  static final String FILE = "owners.listing";

  /** How long a directory must have been unchanged, by the clock, before a listing of it is kept. */
  static final long SETTLED_MILLIS = 2_000;

  private static final int MAGIC = 0x67434c31;  // "gCL1"

  /** The largest listing read (100,000 claims take about 3 MB). */
  private static final long MAX_BYTES = 256L << 20;

  private ClaimListing() {}

  /**
   * The claims (path to owner, sorted by path) {@code file} lists for the directory whose attributes
   * are {@code token}; null when it lists no such directory or cannot be read whole.
   */
  static TreeMap<String, String> read(Path file, String token) {
    byte[] bytes;
    // a link at its name is not followed (it would read whatever it leads to), a FIFO there not
    // opened (the open would wait for a writer), an outsize file not read
    try {
      bytes = DurableFiles.readRegular(file, MAX_BYTES, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      LOG.debug("the claim listing {} cannot be read ({}); the claims are read one by one", file, e.toString());
      return null;
    }
    if (bytes.length < Long.BYTES) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - Long.BYTES);
    if (crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - Long.BYTES, Long.BYTES).getLong()) {
      LOG.debug("the claim listing {} is torn or damaged (its CRC does not match); the claims are read one by one", file);
      return null;
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0,
        bytes.length - Long.BYTES))) {
      if (in.readInt() != MAGIC || !in.readUTF().equals(token)) {
        return null;
      }
      String[] owners = new String[in.readInt()];
      for (int i = 0; i < owners.length; i++) {
        owners[i] = in.readUTF();
      }
      int n = in.readInt();
      TreeMap<String, String> out = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        String owner = owners[in.readInt()];
        out.put(in.readUTF(), owner);
      }
      if (in.available() != 0) {
        return null;
      }
      return out;
    } catch (IOException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      // the CRC held, so another writer's bytes: only a version of this class writes the file
      LOG.debug("the claim listing {} does not read as one ({}); the claims are read one by one", file, e.toString());
      return null;
    }
  }

  /**
   * Writes {@code claims} as the listing of the directory whose attributes are {@code token}, through
   * a temporary file renamed over {@code file}. A failure is logged and dropped: the listing only
   * spares a later call work, and without it the claims are read one by one.
   */
  static void write(Path file, String token, Map<String, String> claims) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(64 + claims.size() * 48);
    try (DataOutputStream out = new DataOutputStream(buf)) {
      out.writeInt(MAGIC);
      out.writeUTF(token);
      Map<String, Integer> index = new HashMap<>();
      List<String> owners = new ArrayList<>();
      claims.values().forEach(o -> index.computeIfAbsent(o, k -> {
        owners.add(k);
        return owners.size() - 1;
      }));
      out.writeInt(owners.size());
      for (String o : owners) {
        out.writeUTF(o);
      }
      out.writeInt(claims.size());
      for (Map.Entry<String, String> e : claims.entrySet()) {
        out.writeInt(index.get(e.getValue()));
        out.writeUTF(e.getKey());
      }
    } catch (IOException e) {
      // to memory: only a text over writeUTF's 65,535 bytes fails, which no path or owner on disk reaches
      LOG.debug("cannot keep the claim listing {} ({}); the next listing reads the claims one by one", file,
          e.toString());
      return;
    }
    CRC32C crc = new CRC32C();
    byte[] body = buf.toByteArray();
    crc.update(body);
    Path temp = file.resolveSibling(FILE + ".tmp");
    try {
      // one temporary name, made new (a killed writer's file, or a link planted there, is removed, never
      // written through); two writers at once may rename each other's, which the CRC refuses when torn
      Files.deleteIfExists(temp);
      Files.write(temp, ByteBuffer.allocate(body.length + Long.BYTES).put(body).putLong(crc.getValue()).array(),
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LOG.debug("kept the listing of {} claims in {}", claims.size(), file);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("cannot keep the claim listing {} ({}); the next listing reads the claims one by one", file,
          e.toString());
    }
  }
}

package dev.gitops.git.signatures;

import dev.gitops.api.SignatureException;
import dev.gitops.api.SourceException;
import dev.gitops.core.internal.fs.DurableFiles;
import dev.gitops.core.source.spi.CommitSignatures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedData;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;
import org.bouncycastle.util.encoders.Hex;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevTag;

/**
 * Verifies the OpenPGP signature of a commit or an annotated tag against a key ring the user
 * supplies, and nothing else: the process-global GnuPG home is never consulted.
 */
final class CommitSignatureVerifier implements CommitSignatures.Verifier {

  /**
   * The hash algorithms of signatures refused, with their names: those GnuPG 2.2 and 2.4 refuse by
   * default (MD5, always weak for it; {@code git verify-commit} fails) or cannot check at all (the
   * rest). SHA-1 is accepted for commit signatures, as GnuPG accepts it.
   */
  private static final Map<Integer, String> REFUSED_HASHES = Map.of(
      HashAlgorithmTags.MD5, "MD5",
      HashAlgorithmTags.DOUBLE_SHA, "double-width SHA",
      HashAlgorithmTags.MD2, "MD2",
      HashAlgorithmTags.TIGER_192, "TIGER/192",
      HashAlgorithmTags.HAVAL_5_160, "HAVAL-5-160");

  /**
   * How far a signature's creation time may lie ahead of this host's clock: a signer's clock a
   * little fast is tolerated, a signature dated later is refused (its key would be judged "at
   * signing" at a time that has not come; the date is the signer's to choose).
   */
  static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

  private final Path keyRingFile;
  private final List<PGPPublicKeyRing> rings;
  private final Clock clock;

  private CommitSignatureVerifier(Path keyRingFile, List<PGPPublicKeyRing> rings, Clock clock) {
    this.keyRingFile = keyRingFile;
    this.rings = rings;
    this.clock = clock;
  }

  /**
   * Loads public keys from {@code keyRingFile} (armored or binary, one or more key rings; every
   * armored block of a file holding several, as {@code cat a.asc b.asc} makes; several copies of one
   * key count as one key holding all their signatures and subkeys).
   *
   * @throws SourceException naming the file when it does not exist, cannot be read, is a GnuPG
   *     keybox ({@code pubring.kbx}, saying to export the keys) or holds no public key
   */
  /** The largest key ring read: far above any ring of trusted signers (a key is a few KB). */
  private static final long MAX_KEY_RING_BYTES = 64L << 20;

  static CommitSignatureVerifier load(Path keyRingFile) {
    return load(keyRingFile, Clock.systemUTC());
  }

  /** {@link #load(Path)} judging keys and signatures at the times {@code clock} tells ("now"). */
  static CommitSignatureVerifier load(Path keyRingFile, Clock clock) {
    byte[] bytes;
    try {
      // a FIFO or a device given as the ring (--verify-key-ring /dev/stdin, /dev/zero) is refused, not read
      // until a writer comes or memory runs out
      bytes = DurableFiles.readRegular(keyRingFile, MAX_KEY_RING_BYTES);
    } catch (NoSuchFileException e) {
      throw new SourceException("the trusted OpenPGP key ring " + keyRingFile + " does not exist", e);
    } catch (IOException | RuntimeException e) {
      throw new SourceException("cannot read the trusted OpenPGP key ring " + keyRingFile + ": " + e.getMessage(), e);
    }
    if (isKeybox(bytes)) {
      throw new SourceException("the trusted key ring " + keyRingFile + " is a GnuPG keybox (pubring.kbx), not an"
          + " OpenPGP key ring: export the trusted keys into a file with gpg --export --armor KEYID... > keys.asc"
          + " and name that file");
    }
    List<PGPPublicKeyRing> rings = new ArrayList<>();
    List<int[]> blocks = armoredBlocks(bytes);
    if (blocks.isEmpty()) {
      try {
        readRings(PGPUtil.getDecoderStream(new ByteArrayInputStream(bytes)), rings);
      } catch (IOException | RuntimeException e) {
        throw new SourceException("cannot read the trusted OpenPGP key ring " + keyRingFile + ": " + e.getMessage()
            + notAKeyRing(bytes), e);
      }
    }
    for (int[] block : blocks) {
      try {
        readRings(new ArmoredInputStream(new ByteArrayInputStream(bytes, block[0], block[1] - block[0])), rings);
      } catch (IOException | RuntimeException e) {
        throw new SourceException("cannot read the trusted OpenPGP key ring " + keyRingFile + " (the armored block at"
            + " line " + block[2] + "): " + e.getMessage(), e);
      }
    }
    if (rings.isEmpty()) {
      throw new SourceException("the trusted key ring " + keyRingFile + " holds no OpenPGP public key"
          + (blocks.stream().anyMatch(b -> startsWith(bytes, b[0], "-----BEGIN PGP PRIVATE KEY BLOCK-----"))
          ? " (it holds a secret key alone: " + EXPORT + ")" : notAKeyRing(bytes)));
    }
    return new CommitSignatureVerifier(keyRingFile, merged(keyRingFile, rings), clock);
  }

  private static final String EXPORT = "export the trusted public keys with gpg --export --armor KEYID... > keys.asc"
      + " and name that file";

  /**
   * What a file that is no OpenPGP key ring holds instead, when it says so in its first line: a
   * PEM block ({@code -----BEGIN OPENSSH PRIVATE KEY-----}, a certificate) or an SSH public key;
   * else nothing.
   */
  static String notAKeyRing(byte[] bytes) {
    int end = 0;
    while (end < bytes.length && end < 200 && bytes[end] != '\n' && bytes[end] != '\r') {
      end++;
    }
    String first = new String(bytes, 0, end, java.nio.charset.StandardCharsets.US_ASCII).strip();
    if (first.startsWith("-----BEGIN ") && !first.startsWith("-----BEGIN PGP ") && first.endsWith("-----")) {
      return " (it holds a PEM block '" + first + "', not an OpenPGP key ring: " + EXPORT + ")";
    }
    if (first.matches("(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?")) {
      return " (it holds an SSH public key, not an OpenPGP key ring: " + EXPORT + ")";
    }
    return "";
  }

  /** Whether {@code bytes} are a GnuPG keybox: its first blob, the header, holds the magic "KBXf" at offset 8. */
  private static boolean isKeybox(byte[] bytes) {
    return bytes.length >= 12 && bytes[4] == 1 && startsWith(bytes, 8, "KBXf");
  }

  /** Adds the public key rings {@code in} holds to {@code rings}, and closes it. */
  private static void readRings(InputStream in, List<PGPPublicKeyRing> rings) throws IOException {
    try (in) {
      BcPGPObjectFactory f = new BcPGPObjectFactory(in);
      Object o;
      while ((o = nextObject(f)) != null) {
        if (o instanceof PGPPublicKeyRing ring) {
          rings.add(ring);
        }
      }
    }
  }

  /**
   * The armored blocks of a text key ring file, each as {start, end, line number of its BEGIN line},
   * from its {@code -----BEGIN PGP} line to the end of its {@code -----END PGP} line: every one is
   * read, as {@code gpg --import} reads {@code cat a.asc b.asc}; text between them is skipped, as
   * are cleartext-signed messages (they hold no key). Empty for a binary file (its first byte is an
   * OpenPGP packet tag, bit 7 set): that is read as one run of packets.
   */
  static List<int[]> armoredBlocks(byte[] bytes) {
    List<int[]> blocks = new ArrayList<>();
    if (bytes.length == 0 || (bytes[0] & 0x80) != 0) {
      return blocks;
    }
    int i = 0;
    int line = 1;
    int[] open = null;
    while (i < bytes.length) {
      int end = i;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      int next = Math.min(bytes.length, end + 1);
      if (open == null && startsWith(bytes, i, "-----BEGIN PGP ")) {
        open = new int[] {i, bytes.length, line};
      } else if (open != null && startsWith(bytes, i, "-----END PGP ")) {
        open[1] = next;
        if (!startsWith(bytes, open[0], "-----BEGIN PGP SIGNED MESSAGE-----")) {
          blocks.add(open);
        }
        open = null;
      }
      i = next;
      line++;
    }
    if (open != null) {  // no END line: read to the end of the file, where the armor's own error names what is missing
      blocks.add(open);
    }
    return blocks;
  }

  /**
   * The rings with every copy of one key (same primary key fingerprint) joined into one, as {@code
   * gpg --import} merges them: a revocation, a newer self-signature or a new subkey published by
   * appending the key again counts, whichever copy comes first.
   */
  private static List<PGPPublicKeyRing> merged(Path keyRingFile, List<PGPPublicKeyRing> rings) {
    Map<String, PGPPublicKeyRing> byFingerprint = new LinkedHashMap<>();
    for (PGPPublicKeyRing ring : rings) {
      String fingerprint = Hex.toHexString(ring.getPublicKey().getFingerprint());
      PGPPublicKeyRing other = byFingerprint.get(fingerprint);
      try {
        byFingerprint.put(fingerprint, other == null ? ring : PGPPublicKeyRing.join(other, ring));
      } catch (PGPException | RuntimeException e) {
        throw new SourceException("cannot merge the copies of key " + String.format("%016X",
            ring.getPublicKey().getKeyID()) + " in the trusted OpenPGP key ring " + keyRingFile + ": "
            + e.getMessage(), e);
      }
    }
    return List.copyOf(byFingerprint.values());
  }

  private static Object nextObject(BcPGPObjectFactory f) throws IOException {
    return f.nextObject();
  }

  /**
   * Verifies {@code commit}.
   *
   * @throws SignatureException naming the commit when it is unsigned, signed by a key outside the
   *     ring or by a key not valid both at the signature's creation time and now ({@link
   *     KeyValidity}: revoked, expired at either time, ...), the signature is dated more than {@link
   *     #CLOCK_SKEW} after now, is no document signature (its class is neither 0x00 binary nor 0x01
   *     text: a key certification, binding or standalone signature), uses a hash algorithm GnuPG
   *     refuses (MD5), does not match, or has expired (its signature expiration time has passed)
   */
  @Override
  public void verify(RevCommit commit) {
    String id = commit.getId().name();
    check("commit", commit.getRawGpgSignature(), () -> unsignedPayload(commit.getRawBuffer()),
        reason -> new SignatureException(id, reason));
  }

  /**
   * Verifies the annotated tag {@code tag}: the signature block git appends to its message ({@code
   * git tag -s}), over the tag object's bytes before that block (git's gitformat-signature), by the
   * rules of {@link #verify(RevCommit)}.
   *
   * @throws SignatureException naming the tag and the object it names when it is unsigned, its
   *     signature is not OpenPGP (SSH, X.509), or for any reason a commit's signature is refused
   */
  @Override
  public void verifyTag(RevTag tag) {
    String object = tag.getObject().name();
    String name = tag.getTagName();
    Function<String, SignatureException> refuse = reason -> new SignatureException(object, name, reason);
    byte[] raw = tag.getRawBuffer();
    int at = signatureStart(raw);
    if (at >= 0 && !startsWith(raw, at, "-----BEGIN PGP ")) {
      throw refuse.apply("the tag signature is not an OpenPGP signature ("
          + (startsWith(raw, at, "-----BEGIN SSH") ? "an SSH signature" : "an X.509 signature") + ")");
    }
    check("tag", at < 0 ? null : Arrays.copyOfRange(raw, at, raw.length), () -> Arrays.copyOfRange(raw, 0, at),
        refuse);
  }

  /**
   * Where the signature block appended to a tag object begins, or -1 when it has none: at the last
   * line that begins as a signature of any format git makes (OpenPGP, its RFC 1991 form, SSH,
   * X.509), as git's parse_signed_buffer finds it.
   */
  static int signatureStart(byte[] raw) {
    int match = -1;
    int i = 0;
    while (i < raw.length) {
      if (startsWith(raw, i, "-----BEGIN PGP SIGNATURE-----") || startsWith(raw, i, "-----BEGIN PGP MESSAGE-----")
          || startsWith(raw, i, "-----BEGIN SSH SIGNATURE-----") || startsWith(raw, i, "-----BEGIN SIGNED MESSAGE-----")) {
        match = i;
      }
      int end = i;
      while (end < raw.length && raw[end] != '\n') {
        end++;
      }
      i = end + 1;
    }
    return match;
  }

  /**
   * Verifies the armored signature {@code raw} (null: unsigned) of a {@code what} ("commit",
   * "tag") over the bytes {@code payload} gives (made only once the signature is one this verifier
   * reads); every refusal is {@code refuse} applied to its reason.
   */
  private void check(String what, byte[] raw, Supplier<byte[]> payload, Function<String, SignatureException> refuse) {
    if (raw == null) {
      throw refuse.apply("the " + what + " is not signed (a signature by a key in " + keyRingFile + " is required)");
    }
    String armor = new String(raw, StandardCharsets.US_ASCII);
    if (!armor.startsWith("-----BEGIN PGP SIGNATURE-----")) {
      throw refuse.apply("the " + what + " signature is not an OpenPGP signature");
    }
    byte[] signed = payload.get();
    List<PGPSignature> sigs = new ArrayList<>();
    try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(raw))) {
      BcPGPObjectFactory f = new BcPGPObjectFactory(in);
      Object o = f.nextObject();
      if (o instanceof PGPCompressedData c) {
        o = new BcPGPObjectFactory(c.getDataStream()).nextObject();
      }
      if (o instanceof PGPSignatureList list) {
        list.forEach(sigs::add);
      }
    } catch (IOException | PGPException | RuntimeException e) {
      throw refuse.apply("the " + what + " signature cannot be parsed: " + e.getMessage());
    }
    if (sigs.isEmpty()) {
      throw refuse.apply("the " + what + " signature holds no OpenPGP signature packet");
    }
    Instant now = clock.instant();
    List<String> unknown = new ArrayList<>();
    for (PGPSignature sig : sigs) {
      PGPPublicKeyRing ring = ringOf(sig.getKeyID());
      String keyId = String.format("%016X", sig.getKeyID());
      if (ring == null) {
        unknown.add(keyId);
        continue;
      }
      PGPPublicKey key = ring.getPublicKey(sig.getKeyID());
      String signer = keyId + userId(ring);
      Instant signedAt = sig.getCreationTime().toInstant();
      if (signedAt.isAfter(now.plus(CLOCK_SKEW))) {
        throw refuse.apply("the signature by key " + signer + " is dated " + signedAt + ", in the"
            + " future (now is " + now + "; more than " + CLOCK_SKEW.toMinutes() + " minutes of clock skew): check"
            + " the signer's clock, or this host's, and sign again");
      }
      String problem = KeyValidity.problem(ring, key, sig.getCreationTime(), now);
      if (problem != null) {
        throw refuse.apply("signed by key " + signer + ", " + problem);
      }
      int type = sig.getSignatureType();
      if (type != PGPSignature.BINARY_DOCUMENT && type != PGPSignature.CANONICAL_TEXT_DOCUMENT) {
        // a key certification, a binding or a standalone signature vouches for no document, whatever
        // bytes it was made over: GnuPG's verification of a detached signature refuses these classes
        throw refuse.apply("the signature by key " + keyId + " is of class " + String.format("0x%02X", type)
            + ", not a signature of a document (0x00 binary or 0x01 text), as git commit -S and git tag -s make");
      }
      String refusedHash = REFUSED_HASHES.get(sig.getHashAlgorithm());
      if (refusedHash != null) {
        throw refuse.apply("the signature by key " + keyId + " uses the " + refusedHash
            + " hash algorithm, which GnuPG refuses too (sign again with SHA-256 or stronger)");
      }
      boolean matches;
      try {
        sig.init(new BcPGPContentVerifierBuilderProvider(), key);
        sig.update(signed);
        matches = sig.verify();
      } catch (PGPException | RuntimeException e) {
        throw refuse.apply("signature by key " + keyId + " cannot be checked: " + e.getMessage());
      }
      if (!matches) {
        throw refuse.apply("the signature by key " + keyId + " does not match the " + what + " content");
      }
      Instant expiry = expiry(sig);
      if (expiry != null && !expiry.isAfter(now)) {
        throw refuse.apply("the signature by key " + keyId + " expired at " + expiry
            + " (its signature expiration time; GnuPG refuses expired signatures too)");
      }
      return;
    }
    throw refuse.apply("signed by key " + String.join(", ", unknown)
        + " which is not in the trusted key ring " + keyRingFile);
  }

  /** When {@code sig} expires by its hashed signature expiration time, or null when it never does. */
  private static Instant expiry(PGPSignature sig) {
    PGPSignatureSubpacketVector hashed = sig.getHashedSubPackets();
    long seconds = hashed == null ? 0 : hashed.getSignatureExpirationTime();
    return seconds <= 0 ? null : sig.getCreationTime().toInstant().plusSeconds(seconds);
  }

  /** " (User Id)" of {@code ring}'s primary key, its first user id, or "" when it has none. */
  private static String userId(PGPPublicKeyRing ring) {
    Iterator<String> ids = ring.getPublicKey().getUserIDs();
    return ids.hasNext() ? " (" + ids.next() + ")" : "";
  }

  /** The ring (all copies of its key merged) holding the key (primary or subkey) {@code keyId}, or null. */
  private PGPPublicKeyRing ringOf(long keyId) {
    for (PGPPublicKeyRing ring : rings) {
      if (ring.getPublicKey(keyId) != null) {
        return ring;
      }
    }
    return null;
  }

  /** The raw commit without its {@code gpgsig} header (and its continuation lines): what was signed. */
  static byte[] unsignedPayload(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
    int i = 0;
    boolean inSig = false;
    while (i < raw.length) {
      int end = i;
      while (end < raw.length && raw[end] != '\n') {
        end++;
      }
      int next = Math.min(raw.length, end + 1);
      if (end == i) {  // the blank line ending the headers: copy the rest as is
        out.write(raw, i, raw.length - i);
        break;
      }
      if (inSig && raw[i] == ' ') {
        i = next;
        continue;
      }
      inSig = startsWith(raw, i, "gpgsig ") || startsWith(raw, i, "gpgsig-sha256 ");
      if (!inSig) {
        out.write(raw, i, next - i);
      }
      i = next;
    }
    return out.toByteArray();
  }

  private static boolean startsWith(byte[] raw, int at, String prefix) {
    byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
    if (at + p.length > raw.length) {
      return false;
    }
    for (int k = 0; k < p.length; k++) {
      if (raw[at + k] != p[k]) {
        return false;
      }
    }
    return true;
  }
}

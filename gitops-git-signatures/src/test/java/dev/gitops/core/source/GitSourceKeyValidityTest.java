package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.SignatureException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.GpgSignature;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A signature by a key of the trusted ring counts only when that key could sign at the time, as
 * GnuPG decides: a subkey's primary key valid (not revoked, not expired), the subkey bound to it by
 * a binding signature the primary key made, cross-certified, not revoked, not expired, and allowed
 * to sign by its key flags. Expiry is judged both at the signature's date and now.
 */
@Timeout(120)
class GitSourceKeyValidityTest {

  private static final Date TWO_DAYS_AGO = Date.from(Instant.now().minus(Duration.ofDays(2)));
  private static final Date HALF_AN_HOUR_LATER = new Date(TWO_DAYS_AGO.getTime() + 1_800_000);
  private static final long ONE_HOUR = 3600;

  @TempDir Path tmp;
  private TestGitRepo repo;
  private GitDaemonServer daemon;

  @BeforeEach
  void setUp() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served/repo"));
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    daemon = GitDaemonServer.start(tmp.resolve("served"));
  }

  @AfterEach
  void tearDown() throws Exception {
    daemon.close();
  }

  private static PGPKeyPair rsaKey(Date created) throws Exception {
    RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
    gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 1024, 12));
    return new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(), created);
  }

  private static BcPGPContentSignerBuilder signer(PGPKeyPair key) {
    return new BcPGPContentSignerBuilder(key.getPublicKey().getAlgorithm(), HashAlgorithmTags.SHA256);
  }

  private static PGPSignatureSubpacketVector flags(int keyFlags, long expirySeconds) {
    PGPSignatureSubpacketGenerator g = new PGPSignatureSubpacketGenerator();
    g.setKeyFlags(false, keyFlags);
    if (expirySeconds > 0) {
      g.setKeyExpirationTime(false, expirySeconds);
    }
    return g.generate();
  }

  /**
   * A ring: primary key (certify only, expiring after {@code primaryExpiry} seconds when > 0) and a
   * subkey bound with {@code subFlags} (expiring after {@code subExpiry} seconds when > 0), with a
   * back signature when {@code backSig}.
   */
  private static PGPPublicKeyRing ring(PGPKeyPair primary, long primaryExpiry, PGPKeyPair sub, int subFlags,
      long subExpiry, boolean backSig) throws Exception {
    PGPKeyRingGenerator gen = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, primary,
        "Signer <signer@example.com>", new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1),
        flags(KeyFlags.CERTIFY_OTHER, primaryExpiry), null, signer(primary), null);
    if (backSig) {
      gen.addSubKey(sub, flags(subFlags, subExpiry), null, signer(sub));
    } else {
      gen.addSubKey(sub, flags(subFlags, subExpiry), null);
    }
    return gen.generatePublicKeyRing();
  }

  private Path write(PGPPublicKeyRing ring, String name) throws Exception {
    return write(name, ring);
  }

  /** One armored block holding {@code rings} one after the other (as {@code gpg --export KEY >> file} leaves them). */
  private Path write(String name, PGPPublicKeyRing... rings) throws Exception {
    ByteArrayOutputStream armored = new ByteArrayOutputStream();
    try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
      for (PGPPublicKeyRing ring : rings) {
        ring.encode(out);
      }
    }
    return Files.write(tmp.resolve(name), armored.toByteArray());
  }

  /** {@code ring} with its primary key revoked by a key revocation signature {@code primary} made. */
  private static PGPPublicKeyRing revoked(PGPPublicKeyRing ring, PGPKeyPair primary) throws Exception {
    PGPSignatureGenerator rev = new PGPSignatureGenerator(signer(primary));
    rev.init(PGPSignature.KEY_REVOCATION, primary.getPrivateKey());
    PGPPublicKey revoked = PGPPublicKey.addCertification(ring.getPublicKey(),
        rev.generateCertification(ring.getPublicKey()));
    return PGPPublicKeyRing.insertPublicKey(ring, revoked);
  }

  /** Replaces HEAD of main with the same commit signed by {@code key}. */
  private String signHead(PGPKeyPair key) throws Exception {
    return signHead(key, null);
  }

  /**
   * Replaces HEAD of main with the same commit signed by {@code key}, by a signature dated {@code
   * signedAt} when not null (as {@code gpg --faked-system-time} dates it), else now.
   */
  private String signHead(PGPKeyPair key, Date signedAt) throws Exception {
    try (Repository r = new FileRepositoryBuilder().setGitDir(repo.dir().resolve(".git").toFile()).build();
        RevWalk walk = new RevWalk(r); ObjectInserter ins = r.newObjectInserter()) {
      RevCommit head = walk.parseCommit(r.resolve("refs/heads/main"));
      CommitBuilder cb = new CommitBuilder();
      cb.setTreeId(head.getTree());
      cb.setParentIds(head.getParents());
      cb.setAuthor(head.getAuthorIdent());
      cb.setCommitter(head.getCommitterIdent());
      cb.setMessage(head.getFullMessage());
      PGPSignatureGenerator sg = new PGPSignatureGenerator(signer(key));
      sg.init(PGPSignature.BINARY_DOCUMENT, key.getPrivateKey());
      if (signedAt != null) {
        PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
        hashed.setSignatureCreationTime(false, signedAt);
        sg.setHashedSubpackets(hashed.generate());
      }
      sg.update(cb.build());
      ByteArrayOutputStream armored = new ByteArrayOutputStream();
      try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
        sg.generate().encode(out);
      }
      cb.setGpgSignature(new GpgSignature(armored.toByteArray()));
      ObjectId signed = ins.insert(cb);
      ins.flush();
      RefUpdate u = r.updateRef("refs/heads/main");
      u.setNewObjectId(signed);
      u.setForceUpdate(true);
      assertThat(u.update()).isIn(RefUpdate.Result.FORCED, RefUpdate.Result.FAST_FORWARD, RefUpdate.Result.NEW);
      return signed.name();
    }
  }

  private State read(Path ring, String cache) {
    GitSource s = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve(cache))
        .requireSignedBy(ring).build();
    try {
      return s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.builder().defaultProvider("m").build()),
          new Cancellation()));
    } finally {
      s.close();
    }
  }

  private void refused(Path ring, String cache, String... phrases) {
    assertThatThrownBy(() -> read(ring, cache)).isInstanceOfSatisfying(SignatureException.class,
        e -> assertThat(e.getMessage()).contains(phrases).contains(daemon.url("repo")).contains("main"));
  }

  @Test
  void aValidSigningSubkeyIsAccepted() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, 0, sub, KeyFlags.SIGN_DATA, 0, true), "ok.asc");
    String signed = signHead(sub);
    assertThat(read(ring, "c").revision()).isEqualTo("main@sha1:" + signed);
  }

  @Test
  void aSubkeyOfARevokedPrimaryKeyIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    PGPPublicKeyRing ring = ring(primary, 0, sub, KeyFlags.SIGN_DATA, 0, true);
    Path file = write(revoked(ring, primary), "revoked.asc");
    signHead(sub);
    refused(file, "c", "primary key", "revoked");
  }

  /**
   * A key revoked after it was distributed, its revoked copy appended to the ring ({@code gpg
   * --export KEY >> ring}): the copies count together, as GnuPG merges them, in either order.
   */
  @Test
  void aRevocationInAnotherCopyOfTheKeyCountsWhicheverCopyComesFirst() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    PGPPublicKeyRing ring = ring(primary, 0, sub, KeyFlags.SIGN_DATA, 0, true);
    PGPPublicKeyRing revoked = revoked(ring, primary);
    signHead(sub);
    refused(write("appended.asc", ring, revoked), "c1", "primary key", "revoked");
    refused(write("prepended.asc", revoked, ring), "c2", "primary key", "revoked");
  }

  /**
   * The copies are merged, not each judged alone: an expiry lifted by a newer self-signature in a
   * later copy (as {@code gpg --quick-set-expire KEY 0} then {@code --export >>} leaves it) counts.
   */
  @Test
  void aNewerSelfSignatureInAnotherCopyOfTheKeyCounts() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    PGPPublicKeyRing expired = ring(primary, ONE_HOUR, sub, KeyFlags.SIGN_DATA, 0, true);
    String uid = expired.getPublicKey().getUserIDs().next();
    PGPSignature old = expired.getPublicKey().getSignaturesForID(uid).next();
    PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
    hashed.setKeyFlags(false, KeyFlags.CERTIFY_OTHER);
    hashed.setSignatureCreationTime(false, new Date(old.getCreationTime().getTime() + 1000));
    PGPSignatureGenerator gen = new PGPSignatureGenerator(signer(primary));
    gen.init(PGPSignature.POSITIVE_CERTIFICATION, primary.getPrivateKey());
    gen.setHashedSubpackets(hashed.generate());
    PGPPublicKey unexpiring = PGPPublicKey.addCertification(primary.getPublicKey(), uid,
        gen.generateCertification(uid, primary.getPublicKey()));
    PGPPublicKeyRing extended = new PGPPublicKeyRing(List.of(unexpiring));
    String signed = signHead(sub);
    refused(write("expired.asc", expired), "c0", "primary key", "expired");
    assertThat(read(write("extended.asc", expired, extended), "c1").revision()).isEqualTo("main@sha1:" + signed);
    assertThat(read(write("extended-first.asc", extended, expired), "c2").revision())
        .isEqualTo("main@sha1:" + signed);
  }

  @Test
  void aSubkeyOfAnExpiredPrimaryKeyIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, ONE_HOUR, sub, KeyFlags.SIGN_DATA, 0, true), "expired-primary.asc");
    signHead(sub);
    refused(ring, "c", "primary key", "expired");
  }

  @Test
  void anExpiredSubkeyIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, 0, sub, KeyFlags.SIGN_DATA, ONE_HOUR, true), "expired-sub.asc");
    signHead(sub);
    refused(ring, "c", "subkey", "expired");
  }

  /**
   * A signature dated while the key was valid ({@code gpg --faked-system-time}) does not make an
   * expired key good: the date is the signer's choice, so the key must be valid now too, as {@code
   * git verify-commit} requires ("Good signature ... [expired]", exit 1).
   */
  @Test
  void aBackDatedSignatureByAPrimaryKeyExpiredSinceIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, ONE_HOUR, sub, KeyFlags.SIGN_DATA, 0, true), "expired-since.asc");
    String signed = signHead(sub, HALF_AN_HOUR_LATER);
    Instant expired = primary.getPublicKey().getCreationTime().toInstant().plusSeconds(ONE_HOUR);
    refused(ring, "c", signed, String.format("%016X", sub.getKeyID()), "Signer <signer@example.com>",
        "primary key " + String.format("%016X", primary.getKeyID()) + " expired at " + expired,
        "gpg --quick-set-expire");
  }

  @Test
  void aBackDatedSignatureByASubkeyExpiredSinceIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, 0, sub, KeyFlags.SIGN_DATA, ONE_HOUR, true), "sub-expired-since.asc");
    String signed = signHead(sub, HALF_AN_HOUR_LATER);
    Instant expired = sub.getPublicKey().getCreationTime().toInstant().plusSeconds(ONE_HOUR);
    refused(ring, "c", signed, "a subkey of " + String.format("%016X", primary.getKeyID()) + " which expired at "
        + expired, "gpg --quick-set-expire");
  }

  /**
   * A source that read a commit goes on reading its ref: when the ref has not moved, the commit is
   * not fetched again, but its signature is checked again, so a key that has expired since (here,
   * seconds after the first read) makes the same commit refused, as a fresh source would refuse it.
   */
  @Test
  void aCommitReadAgainUnchangedIsRefusedOnceItsKeyHasExpired() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Instant created = primary.getPublicKey().getCreationTime().toInstant();
    Instant expires = Instant.now().plusSeconds(4);
    Path ring = write(ring(primary, 0, sub, KeyFlags.SIGN_DATA, Duration.between(created, expires).toSeconds(), true),
        "expiring.asc");
    String signed = signHead(sub);
    GitSource s = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("c"))
        .requireSignedBy(ring).build();
    try {
      Source.ReadRequest request = new Source.ReadRequest(null,
          List.of(YamlManifestDecoder.builder().defaultProvider("m").build()), new Cancellation());
      State first = s.read(request);
      org.junit.jupiter.api.Assumptions.assumeTrue(Instant.now().isBefore(expires.minusSeconds(1)),
          "the first read ended too close to the key's expiry for the test to say anything");
      assertThat(first.revision()).isEqualTo("main@sha1:" + signed);
      Thread.sleep(Math.max(0, Duration.between(Instant.now(), expires).toMillis()) + 1_100);
      assertThatThrownBy(() -> s.read(request)).isInstanceOfSatisfying(SignatureException.class,
          e -> assertThat(e.getMessage()).contains(signed, "a subkey of " + String.format("%016X", primary.getKeyID()),
              "expired at", "gpg --quick-set-expire", daemon.url("repo")));
    } finally {
      s.close();
    }
  }

  @Test
  void aBackDatedSignatureByAKeyStillValidIsAccepted() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    long thirtyDays = Duration.ofDays(30).toSeconds();
    Path ring = write(ring(primary, thirtyDays, sub, KeyFlags.SIGN_DATA, thirtyDays, true), "valid.asc");
    String signed = signHead(sub, HALF_AN_HOUR_LATER);
    assertThat(read(ring, "c").revision()).isEqualTo("main@sha1:" + signed);
  }

  @Test
  void aSubkeyWithoutTheSigningFlagIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, 0, sub, KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE, 0, true),
        "encrypt-only.asc");
    signHead(sub);
    refused(ring, "c", "not allowed to sign");
  }

  @Test
  void aSubkeyWhoseBindingAnotherKeyMadeIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair forger = rsaKey(TWO_DAYS_AGO);
    // the forger binds the subkey to itself, then the subkey (with that binding) is put under the victim's primary
    PGPPublicKey forged = ring(forger, 0, sub, KeyFlags.SIGN_DATA, 0, true).getPublicKey(sub.getKeyID());
    PGPPublicKeyRing victim = ring(primary, 0, rsaKey(TWO_DAYS_AGO), KeyFlags.SIGN_DATA, 0, true);
    Path file = write(PGPPublicKeyRing.insertPublicKey(victim, forged), "forged.asc");
    signHead(sub);
    refused(file, "c", "binding");
  }

  @Test
  void aSigningSubkeyWithoutBackSignatureIsRefused() throws Exception {
    PGPKeyPair primary = rsaKey(TWO_DAYS_AGO);
    PGPKeyPair sub = rsaKey(TWO_DAYS_AGO);
    Path ring = write(ring(primary, 0, sub, KeyFlags.SIGN_DATA, 0, false), "no-backsig.asc");
    signHead(sub);
    refused(ring, "c", "cross-certified");
  }
}

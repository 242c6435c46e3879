package dev.gitops.core.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gitops.api.Cancellation;
import dev.gitops.api.ResourceKey;
import dev.gitops.api.SignatureException;
import dev.gitops.api.SourceException;
import dev.gitops.api.State;
import dev.gitops.api.spi.Source;
import dev.gitops.core.decode.YamlManifestDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GitSourceSignatureTest {

  private static PGPKeyPair trusted;
  private static PGPKeyPair stranger;
  private static byte[] trustedRingBinary;

  @TempDir Path tmp;
  private TestGitRepo repo;
  private GitDaemonServer daemon;
  private Path armoredRing;
  private Path binaryRing;

  @BeforeAll
  static void keys() throws Exception {
    trusted = rsaKey();
    stranger = rsaKey();
    trustedRingBinary = publicRing(trusted, "Trusted <trusted@example.com>");
  }

  @BeforeEach
  void setUp() throws Exception {
    repo = TestGitRepo.init(tmp.resolve("served/repo"));
    daemon = GitDaemonServer.start(tmp.resolve("served"));
    binaryRing = Files.write(tmp.resolve("trusted.gpg"), trustedRingBinary);
    armoredRing = Files.write(tmp.resolve("trusted.asc"), armor(trustedRingBinary));
  }

  private static byte[] armor(byte[] binary) throws IOException {
    ByteArrayOutputStream armored = new ByteArrayOutputStream();
    try (ArmoredOutputStream out = new ArmoredOutputStream(armored)) {
      out.write(binary);
    }
    return armored.toByteArray();
  }

  @AfterEach
  void tearDown() throws Exception {
    daemon.close();
  }

  private static PGPKeyPair rsaKey() throws Exception {
    RSAKeyPairGenerator gen = new RSAKeyPairGenerator();
    gen.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), new SecureRandom(), 2048, 12));
    // made a day ago: a test signs at earlier times than now, never before the key
    return new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, gen.generateKeyPair(),
        Date.from(Instant.now().minus(Duration.ofDays(1))));
  }

  private static byte[] publicRing(PGPKeyPair key, String userId) throws Exception {
    PGPKeyRingGenerator gen = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, key, userId,
        new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1), null, null,
        new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), null);
    return gen.generatePublicKeyRing().getEncoded();
  }

  /** Replaces HEAD of main with the same commit signed by {@code key} (optionally over other content). */
  private String signHead(PGPKeyPair key, boolean tamper) throws Exception {
    return signHead(key, HashAlgorithmTags.SHA256, null, tamper);
  }

  /**
   * {@link #signHead(PGPKeyPair, boolean)} with a signature over {@code hashAlgorithm}, carrying
   * {@code hashed} subpackets when not null.
   */
  private String signHead(PGPKeyPair key, int hashAlgorithm, PGPSignatureSubpacketVector hashed, boolean tamper)
      throws Exception {
    return signHead(key, PGPSignature.BINARY_DOCUMENT, hashAlgorithm, hashed, tamper);
  }

  /** {@link #signHead(PGPKeyPair, int, PGPSignatureSubpacketVector, boolean)} with a signature of class {@code type}. */
  private String signHead(PGPKeyPair key, int type, int hashAlgorithm, PGPSignatureSubpacketVector hashed,
      boolean tamper) throws Exception {
    try (Repository r = new FileRepositoryBuilder().setGitDir(repo.dir().resolve(".git").toFile()).build();
        RevWalk walk = new RevWalk(r); ObjectInserter ins = r.newObjectInserter()) {
      RevCommit head = walk.parseCommit(r.resolve("refs/heads/main"));
      CommitBuilder cb = new CommitBuilder();
      cb.setTreeId(head.getTree());
      cb.setParentIds(head.getParents());
      cb.setAuthor(head.getAuthorIdent());
      cb.setCommitter(head.getCommitterIdent());
      cb.setMessage(head.getFullMessage());
      PGPSignatureGenerator sg = new PGPSignatureGenerator(
          new BcPGPContentSignerBuilder(key.getPublicKey().getAlgorithm(), hashAlgorithm));
      sg.init(type, key.getPrivateKey());
      if (hashed != null) {
        sg.setHashedSubpackets(hashed);
      }
      sg.update(cb.build());
      if (tamper) {
        sg.update((byte) '!');
      }
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

  private State read(Path ring) {
    GitSource s = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("cache"))
        .requireSignedBy(ring).build();
    try {
      return s.read(new Source.ReadRequest(null, List.of(YamlManifestDecoder.builder().defaultProvider("m").build()),
          new Cancellation()));
    } finally {
      s.close();
    }
  }

  @Test
  void commitSignedByATrustedKeyIsRead() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    String signed = signHead(trusted, false);
    State st = read(armoredRing);
    assertThat(st.revision()).isEqualTo("main@sha1:" + signed);
    assertThat(st.get(ResourceKey.of("m", "t", "", "a"))).isPresent();
    assertThat(read(binaryRing).revision()).isEqualTo(st.revision());
  }

  /**
   * A fingerprint expected of the commit the branch still names is not taken on trust when
   * signatures are required: the commit is read and checked again (the trusted keys may have changed
   * since the store recorded its content).
   */
  @Test
  void theExpectedContentOfACommitNoLongerTrustedIsRefusedNotTakenFromTheStore() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signHead(trusted, false);
    Source.ReadRequest request = new Source.ReadRequest(null,
        List.of(YamlManifestDecoder.builder().defaultProvider("m").build()), new Cancellation());
    String expected;
    try (GitSource first = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("cache"))
        .requireSignedBy(armoredRing).build()) {
      expected = first.fingerprint(request, null).orElseThrow().fingerprint();
    }
    Path strangersRing = Files.write(tmp.resolve("stranger.gpg"), publicRing(stranger, "Stranger <s@example.com>"));
    try (GitSource now = GitSource.builder().url(daemon.url("repo")).ref("main").cacheDir(tmp.resolve("cache"))
        .requireSignedBy(strangersRing).build()) {
      assertThat(now.fingerprint(request, expected)).as("the commit checked again, and refused").isEmpty();
      assertThatThrownBy(() -> now.read(request)).isInstanceOf(SignatureException.class)
          .hasMessageContaining("not in the trusted key ring");
    }
  }

  @Test
  void unsignedCommitIsRefused() throws Exception {
    String sha = repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    assertThatThrownBy(() -> read(armoredRing)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.commit()).isEqualTo(sha);
      assertThat(e.getMessage()).contains("not signed");
    });
  }

  @Test
  void commitSignedByAnUntrustedKeyIsRefused() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    String signed = signHead(stranger, false);
    assertThatThrownBy(() -> read(armoredRing)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.commit()).isEqualTo(signed);
      assertThat(e.getMessage()).contains("not in the trusted key ring").contains(String.format("%016X",
          stranger.getKeyID()));
    });
  }

  @Test
  void signatureOverOtherContentIsRefused() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    signHead(trusted, true);
    assertThatThrownBy(() -> read(armoredRing)).isInstanceOf(SignatureException.class)
        .hasMessageContaining("does not match");
  }

  /** An MD5 signature is refused, as GnuPG (and so {@code git verify-commit}) refuses it; SHA-1 is not, as there. */
  @Test
  void anMd5SignatureIsRefusedNamingTheAlgorithm() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    String md5 = signHead(trusted, HashAlgorithmTags.MD5, null, false);
    assertThatThrownBy(() -> read(armoredRing)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.commit()).isEqualTo(md5);
      assertThat(e.getMessage()).contains("MD5").contains(String.format("%016X", trusted.getKeyID()));
    });
    String sha1 = signHead(trusted, HashAlgorithmTags.SHA1, null, false);
    assertThat(read(armoredRing).revision()).isEqualTo("main@sha1:" + sha1);
  }

  /**
   * A signature by a trusted key over the commit's bytes that is no document signature (a key
   * certification, a subkey binding, a standalone or a timestamp signature, each made over exactly
   * those bytes and so matching them) is refused naming its class, as GnuPG refuses it; a canonical
   * text signature (class 0x01) is a document signature and is read.
   */
  @Test
  void aSignatureOfAClassThatVouchesForNoDocumentIsRefusedNamingTheClass() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    for (int type : new int[] {PGPSignature.STAND_ALONE, PGPSignature.POSITIVE_CERTIFICATION,
        PGPSignature.SUBKEY_BINDING, PGPSignature.DIRECT_KEY, PGPSignature.TIMESTAMP}) {
      String signed = signHead(trusted, type, HashAlgorithmTags.SHA256, null, false);
      assertThatThrownBy(() -> read(armoredRing)).as("class 0x%02X", type)
          .isInstanceOfSatisfying(SignatureException.class, e -> {
            assertThat(e.commit()).isEqualTo(signed);
            assertThat(e.getMessage()).contains(String.format("class 0x%02X", type))
                .contains(String.format("%016X", trusted.getKeyID()));
          });
    }
    String text = signHead(trusted, PGPSignature.CANONICAL_TEXT_DOCUMENT, HashAlgorithmTags.SHA256, null, false);
    assertThat(read(armoredRing).revision()).isEqualTo("main@sha1:" + text);
  }

  /**
   * A signature whose signature expiration time has passed ({@code gpg --default-sig-expire}) is
   * refused naming when it expired, as GnuPG refuses it; one still to expire is read.
   */
  @Test
  void anExpiredSignatureIsRefusedNamingItsExpiry() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    Instant made = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
    String expired = signHead(trusted, HashAlgorithmTags.SHA256, expiring(made, 3600), false);
    assertThatThrownBy(() -> read(armoredRing)).isInstanceOfSatisfying(SignatureException.class, e -> {
      assertThat(e.commit()).isEqualTo(expired);
      assertThat(e.getMessage()).contains("expired at " + made.plusSeconds(3600))
          .contains(String.format("%016X", trusted.getKeyID()));
    });
    String valid = signHead(trusted, HashAlgorithmTags.SHA256, expiring(made, 3 * 3600), false);
    assertThat(read(armoredRing).revision()).isEqualTo("main@sha1:" + valid);
  }

  /** Hashed subpackets of a signature made at {@code made} that expires {@code seconds} later. */
  private static PGPSignatureSubpacketVector expiring(Instant made, long seconds) {
    PGPSignatureSubpacketGenerator g = new PGPSignatureSubpacketGenerator();
    g.setSignatureCreationTime(false, Date.from(made));
    g.setSignatureExpirationTime(false, seconds);
    return g.generate();
  }

  /** A ring of armored exports put together ({@code cat stranger.asc trusted.asc}): every block is read, as gpg does. */
  @Test
  void aKeyInALaterArmoredBlockOfTheRingIsTrusted() throws Exception {
    repo.write("a.yaml", "type: t\nname: a\n").commit("one");
    String signed = signHead(trusted, false);
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.write(armor(publicRing(stranger, "Stranger <s@example.com>")));
    both.write("text between the blocks is skipped\n".getBytes(StandardCharsets.US_ASCII));
    both.write(armor(trustedRingBinary));
    Path ring = Files.write(tmp.resolve("both.asc"), both.toByteArray());
    assertThat(read(ring).revision()).isEqualTo("main@sha1:" + signed);
  }

  @Test
  void unreadableKeyRingFailsAtBuild() throws IOException {
    Path junk = Files.writeString(tmp.resolve("junk.asc"), "not a key");
    assertThatThrownBy(() -> GitSource.builder().url(daemon.url("repo")).requireSignedBy(junk).build())
        .isInstanceOf(SourceException.class).hasMessageContaining("junk.asc");
  }

  @Test
  void aMissingKeyRingIsSaidNotToExist() {
    Path missing = tmp.resolve("nope.asc");
    assertThatThrownBy(() -> GitSource.builder().url(daemon.url("repo")).requireSignedBy(missing).build())
        .isInstanceOf(SourceException.class).hasMessageContaining(missing + " does not exist");
  }

  /** A FIFO or a device as the ring is refused naming it, not read until a writer comes or memory runs out. */
  @Test
  void aKeyRingThatIsNoRegularFileIsRefusedWithoutReadingIt() throws Exception {
    Path fifo = tmp.resolve("ring.fifo");
    org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0,
        "mkfifo");
    for (Path ring : List.of(fifo, Path.of("/dev/zero"))) {
      assertThatThrownBy(() -> GitSource.builder().url(daemon.url("repo")).requireSignedBy(ring).build())
          .as("%s", ring).isInstanceOf(SourceException.class).hasMessageContaining(ring.toString())
          .hasMessageContaining("not a regular file");
    }
  }

  /** GnuPG's own key store is not an OpenPGP key ring: the refusal says so and how to export the keys. */
  @Test
  void aGnuPgKeyboxIsRefusedSayingToExportTheKeys() throws IOException {
    byte[] header = new byte[32];  // a keybox's first blob: length 32, type 1 (header), version 1, ..., "KBXf"
    header[3] = 32;
    header[4] = 1;
    header[5] = 1;
    System.arraycopy("KBXf".getBytes(StandardCharsets.US_ASCII), 0, header, 8, 4);
    Path kbx = Files.write(tmp.resolve("pubring.kbx"), header);
    assertThatThrownBy(() -> GitSource.builder().url(daemon.url("repo")).requireSignedBy(kbx).build())
        .isInstanceOf(SourceException.class).hasMessageContaining(kbx.toString())
        .hasMessageContaining("keybox").hasMessageContaining("gpg --export");
  }
}

package dev.gitops.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gitops.agent.SigningKey;
import dev.gitops.agent.providers.FilesProviderFactory;
import dev.gitops.agent.spi.ProviderFactory;
import dev.gitops.core.source.SignatureMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code source.verify}: the key ring and the mode, Flux's spellings in any case, checked when the
 * file is read (docs/agent.md), each error naming the file, the line and the field.
 */
class SourceVerifyConfigTest {

  static SigningKey key;

  @TempDir
  Path dir;

  final Map<String, ProviderFactory> factories = Map.of("files", new FilesProviderFactory());

  @BeforeAll
  static void key() {
    key = SigningKey.generate("Release <release@example.com>");
  }

  @BeforeEach
  void ring() {
    key.writeArmoredRing(dir.resolve("keys.asc"));
  }

  /** The configuration with {@code verify} (its lines from line 5 on) under the source. */
  AgentConfig load(String verify) throws IOException {
    Path f = dir.resolve("agent.yaml");
    Files.writeString(f, "targets:\n  - name: web\n    source:\n      url: https://git.example.com/ops.git\n"
        + verify + "    provider: {type: files, directory: www}\n");
    return AgentConfig.load(f, factories, Map.of(), true);
  }

  String error(String verify) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(verify));
    assertThat(e).as("refused: %s", verify).isNotNull();
    return e.getMessage();
  }

  @Test
  void theKeyRingIsReadFromTheFilesDirectoryAndTheModeInFluxsSpellingsInAnyCase() throws IOException {
    TargetConfig t = load("      verify:\n        keyRing: keys.asc\n").targets().get(0);
    assertThat(t.verify().keyRing()).isEqualTo(dir.resolve("keys.asc").toAbsolutePath().normalize());
    assertThat(t.verify().mode()).as("the default, as Flux's").isEqualTo(SignatureMode.HEAD);
    Map<String, SignatureMode> spellings = Map.of("HEAD", SignatureMode.HEAD, "head", SignatureMode.HEAD,
        "Tag", SignatureMode.TAG, "TAG", SignatureMode.TAG, "TagAndHEAD", SignatureMode.TAG_AND_HEAD,
        "tagandhead", SignatureMode.TAG_AND_HEAD);
    for (Map.Entry<String, SignatureMode> e : spellings.entrySet()) {
      assertThat(load("      verify: {keyRing: keys.asc, mode: " + e.getKey() + "}\n").targets().get(0).verify().mode())
          .as(e.getKey()).isEqualTo(e.getValue());
    }
    assertThat(load("").targets().get(0).verify()).as("no verify: no signature required").isNull();
  }

  @Test
  void eachMistakeIsRefusedAtItsLineNamingTheField() {
    assertThat(error("      verify:\n        keyRing: keys.asc\n        secretRef: {name: pgp-public-keys}\n"))
        .startsWith(dir.resolve("agent.yaml") + ":7: targets[0].source.verify.secretRef: unknown field")
        .contains("keyRing, mode");
    assertThat(error("      verify:\n        mode: Tag\n"))
        .startsWith(dir.resolve("agent.yaml") + ":5: targets[0].source.verify.keyRing: required");
    assertThat(error("      verify:\n        keyRing: keys.asc\n        mode: tag-and-head\n"))
        .startsWith(dir.resolve("agent.yaml") + ":7: targets[0].source.verify.mode: 'tag-and-head' is not a"
            + " signature mode").contains("HEAD", "Tag", "TagAndHEAD");
    assertThat(error("      verify:\n        keyRing: missing.asc\n"))
        .startsWith(dir.resolve("agent.yaml") + ":6: targets[0].source.verify.keyRing: cannot read ")
        .contains(dir.resolve("missing.asc").toString()).contains("no such file");
    assertThat(error("      verify:\n        keyRing: .\n"))
        .startsWith(dir.resolve("agent.yaml") + ":6: targets[0].source.verify.keyRing: ").contains("is a directory");
    assertThat(error("      verify:\n")).startsWith(dir.resolve("agent.yaml") + ":5: targets[0].source.verify: has"
        + " no value");
    assertThat(error("      verify: keys.asc\n"))
        .startsWith(dir.resolve("agent.yaml") + ":5: targets[0].source.verify: must be a mapping");
    String commit = "      ref: 0123456789abcdef0123456789abcdef01234567\n";
    assertThat(error(commit + "      verify:\n        keyRing: keys.asc\n        mode: Tag\n"))
        .as("no tag is read through a commit id").startsWith(dir.resolve("agent.yaml") + ":8: targets[0].source.verify"
            + ".mode: checks the signature of the annotated tag").contains("is a commit id");
  }

  @Test
  void aKeyRingThatHoldsNoPublicKeyIsRefusedAtKeyRingsLineNotWhenTheTargetStarts() throws IOException {
    Files.writeString(dir.resolve("empty.asc"), "");
    Files.writeString(dir.resolve("text.asc"), "trusted: release@example.com\n");
    key.writeArmoredSecretRing(dir.resolve("private.asc"));
    for (String file : new String[] {"empty.asc", "text.asc", "private.asc"}) {
      assertThat(error("      verify:\n        keyRing: " + file + "\n")).as(file)
          .startsWith(dir.resolve("agent.yaml") + ":6: targets[0].source.verify.keyRing: ")
          .contains(dir.resolve(file).toString()).contains("OpenPGP");
    }
    assertThat(error("      verify:\n        keyRing: private.asc\n")).as("a private key alone")
        .contains("holds no OpenPGP public key").contains("it holds a secret key alone").contains("gpg --export");
    Files.writeString(dir.resolve("id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        + "-----END OPENSSH PRIVATE KEY-----\n");
    Files.writeString(dir.resolve("id_ed25519.pub"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO me@host\n");
    assertThat(error("      verify:\n        keyRing: id_ed25519\n")).as("an SSH private key")
        .contains(dir.resolve("id_ed25519").toString())
        .contains("it holds a PEM block '-----BEGIN OPENSSH PRIVATE KEY-----', not an OpenPGP key ring")
        .contains("gpg --export");
    assertThat(error("      verify:\n        keyRing: id_ed25519.pub\n")).as("an SSH public key")
        .contains("it holds an SSH public key, not an OpenPGP key ring");
  }

  @Test
  void aCommitIdRefIsVerifiedByTheCommitsOwnSignature() throws IOException {
    assertThat(load("      ref: 0123456789abcdef0123456789abcdef01234567\n      verify: {keyRing: keys.asc}\n")
        .targets().get(0).verify().mode()).isEqualTo(SignatureMode.HEAD);
  }

  @Test
  void aReloadRestartsTheTargetWhenTheKeyRingsContentChangedNotOtherwise() throws IOException {
    String verify = "      verify: {keyRing: keys.asc, mode: Tag}\n";
    TargetConfig before = load(verify).targets().get(0);
    assertThat(load(verify).targets().get(0).sameAs(before)).as("nothing changed").isTrue();
    SigningKey.generate("Another <another@example.com>").writeArmoredRing(dir.resolve("keys.asc"));
    assertThat(load(verify).targets().get(0).sameAs(before)).as("the ring's content changed").isFalse();
    assertThat(load("      verify: {keyRing: keys.asc, mode: TagAndHEAD}\n").targets().get(0)
        .sameAs(load(verify).targets().get(0))).as("the mode changed").isFalse();
  }
}

package dev.gitops.agent.config;

import dev.gitops.api.SourceException;
import dev.gitops.api.internal.Sha256;
import dev.gitops.core.source.SignatureMode;
import dev.gitops.core.source.spi.CommitSignatures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A target's signature policy ({@code source.verify}): the OpenPGP public key ring whose keys must
 * have signed what the mode names, as Flux's GitRepository {@code spec.verify} (its {@code mode}
 * spelt {@code HEAD}, {@code Tag} or {@code TagAndHEAD}, in any case). Given to {@link
 * dev.gitops.core.source.GitSource.Builder#requireSignedBy(Path, SignatureMode)}.
 *
 * <pre class="language-yaml">{@code
 * source:                             # under a target in agent.yaml
 *   url: https://git.example.com/ops.git
 *   ref: main
 *   verify:
 *     keyRing: /etc/gitops/trusted-keys.asc   # armored or binary OpenPGP public keys
 *     mode: HEAD                              # HEAD (default), Tag or TagAndHEAD
 * }</pre>
 *
 * @param keyRing the key ring file, absolute or relative to the configuration file's directory
 * @param mode what carries the signature
 * @param keyRingDigest the SHA-256 (hex) of the key ring's content when the configuration was read
 *     and checked, or null when it was read without checking files: a reload restarts the target
 *     when it changed (a key added or revoked), as when the configuration itself changed
 */
public record SourceVerification(Path keyRing, SignatureMode mode, String keyRingDigest) {

  /** The spellings of {@code mode} a configuration gives, as Flux's {@code spec.verify.mode}. */
  static final String MODES = "HEAD (the commit's signature, the default), Tag (the annotated tag's: the ref is a tag"
      + " signed with git tag -s, or a version range over such tags) or TagAndHEAD (both), as Flux's spec.verify.mode";

  /**
   * The {@code verify} mapping of a target's source whose ref is {@code ref} (null: the default
   * branch), if written; with {@code readFile}, the key ring is read (it must be a readable regular
   * file holding at least one OpenPGP public key, read by the signature module) and its digest
   * recorded. A tag mode over a commit-id ref is refused here, as the source
   * would refuse it when the target starts: no tag is read through a commit id.
   *
   * @throws ConfigException naming the file, the line and the field at fault
   */
  static Optional<SourceVerification> read(ConfigNode verify, boolean readFile, String ref) {
    if (verify.isAbsent()) {
      return Optional.empty();
    }
    verify.allowOnly("keyRing", "mode");
    Path keyRing = verify.path("keyRing", "the file of trusted OpenPGP public keys (armored or binary, such as"
        + " gpg --export --armor KEYID... writes)");
    SignatureMode mode = verify.optionalString("mode").map(m -> mode(verify.get("mode"), m)).orElse(SignatureMode.HEAD);
    if (!mode.admits(ref)) {
      throw verify.get("mode").error("checks the signature of the annotated tag the commit is read through, and"
          + " source.ref '" + ref + "' is a commit id: give the name of a signed tag (git tag -s) or a version"
          + " range over them as the ref, or mode HEAD to check the commit's own signature");
    }
    if (!readFile) {
      return Optional.of(new SourceVerification(keyRing, mode, null));
    }
    CommitSignatures signatures = signatureModule().orElseThrow(() -> verify.error("needs the commit signature"
        + " module: add the dependency " + CommitSignatures.ARTIFACT + " (the version of gitops-core) to the agent's"
        + " classpath (the gitops CLI has it)"));
    String digest = digest(verify.get("keyRing"), keyRing);
    requirePublicKeys(verify.get("keyRing"), signatures, keyRing);
    return Optional.of(new SourceVerification(keyRing, mode, digest));
  }

  /**
   * The module that checks signatures, looked for as the Git source looks for it (the context
   * class loader, then gitops-core's), if it is on the classpath: without it every sync would fail.
   */
  private static Optional<CommitSignatures> signatureModule() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    Optional<CommitSignatures> found = context == null ? Optional.empty()
        : ServiceLoader.load(CommitSignatures.class, context).findFirst();
    return found.isPresent() ? found
        : ServiceLoader.load(CommitSignatures.class, CommitSignatures.class.getClassLoader()).findFirst();
  }

  /**
   * Reads the key ring as the source will when the target starts ({@link CommitSignatures#load},
   * the one parse the CLI's {@code --verify-key-ring} check and the source share), so that a file
   * that holds no OpenPGP public key (empty, text, a private key alone, a GnuPG keybox) refuses the
   * configuration at {@code keyRing}'s line rather than failing the target when it starts.
   */
  private static void requirePublicKeys(ConfigNode at, CommitSignatures signatures, Path keyRing) {
    try {
      signatures.load(keyRing);
    } catch (SourceException e) {
      throw new ConfigException(at.file(), at.line(), at.where() + ": " + e.getMessage(), e);
    }
  }

  private static SignatureMode mode(ConfigNode at, String written) {
    return switch (written.toLowerCase(Locale.ROOT)) {
      case "head" -> SignatureMode.HEAD;
      case "tag" -> SignatureMode.TAG;
      case "tagandhead" -> SignatureMode.TAG_AND_HEAD;
      default -> throw at.error("'" + written + "' is not a signature mode: give " + MODES);
    };
  }

  /**
   * The SHA-256 of the key ring's content, read now so that a file that cannot be read refuses the
   * configuration rather than failing the target when it starts.
   */
  private static String digest(ConfigNode at, Path keyRing) {
    if (Files.isDirectory(keyRing)) {
      throw at.error(keyRing + " is a directory, not a file of OpenPGP public keys");
    }
    if (Files.exists(keyRing) && !Files.isRegularFile(keyRing)) {
      // a FIFO or a device would block the read, or never end it
      throw at.error(keyRing + " is not a regular file (a FIFO or a device): give the file of OpenPGP public keys");
    }
    try (InputStream in = Files.newInputStream(keyRing)) {
      return Sha256.hex(in);
    } catch (NoSuchFileException e) {
      throw at.error("cannot read " + keyRing + ": no such file");
    } catch (AccessDeniedException e) {
      throw at.error("cannot read " + keyRing + ": permission denied (the agent's user must be able to read it)");
    } catch (IOException e) {
      throw new ConfigException(at.file(), at.line(), at.where() + ": cannot read " + keyRing + ": " + e, e);
    }
  }
}

package dev.gitops.git.signatures;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Where a tag object's signature begins, as git's parse_signed_buffer finds it. */
class TagSignatureStartTest {

  private static final String HEAD = "object 0123456789012345678901234567890123456789\ntype commit\ntag v1\n"
      + "tagger T <t@example.com> 1700000000 +0000\n\n";

  private static int start(String tag) {
    return CommitSignatureVerifier.signatureStart(tag.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void theLastLineBeginningASignatureStartsIt() {
    String quoted = "release notes quote one:\n-----BEGIN PGP SIGNATURE-----\nnot this\n-----END PGP SIGNATURE-----\n";
    String signature = "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
    assertThat(start(HEAD + quoted + signature)).isEqualTo((HEAD + quoted).length());
    assertThat(start(HEAD + "no signature\n")).isEqualTo(-1);
    assertThat(start(HEAD + "a line with -----BEGIN PGP SIGNATURE----- inside\n")).as("only at a line's start")
        .isEqualTo(-1);
    assertThat(start(HEAD + "m\n-----BEGIN SSH SIGNATURE-----\nx\n")).as("an SSH signature is found, then refused")
        .isEqualTo((HEAD + "m\n").length());
  }
}

package dev.gitops.ansible;

/**
 * Values encrypted by the real {@code ansible-vault} with the password {@value #PASSWORD}, shared by
 * the tests that need vault input.
 */
public final class VaultSamples {

  /** The vault password. */
  public static final String PASSWORD = "test-vault-pw";
  /** The plain text of {@link #INLINE_YAML}'s value. */
  public static final String INLINE_PLAIN = "s3cr3t-vault-value-42";
  /** The value of {@code file_secret} in {@link #FILE}. */
  public static final String FILE_PLAIN_VALUE = "from-a-vault-file-77";

  /** {@code vault_secret: !vault |...} made by {@code ansible-vault encrypt_string}. */
  public static final String INLINE_YAML = """
      vault_secret: !vault |
                $ANSIBLE_VAULT;1.1;AES256
                30626535363162616238616566633332373837383863653232366634643330323436643562643131
                6462313730333666356261323733353537643966636165660a363765346536373261383463623766
                33353462336461626334633838633930353863313232653761386331363838353433373061623539
                3238666666343134390a343136323663383139643635353237623930623838346132343832346135
                65393939376638306630323535336263366434613662623832656366376538626337
      """;
  /** A whole vars file ({@code file_secret: from-a-vault-file-77}) made by {@code ansible-vault encrypt}. */
  public static final String FILE = """
      $ANSIBLE_VAULT;1.1;AES256
      30363835613036623536363265356535336261363336623164623534643863316264636236326365
      3836336538376338303536333738616165303639363166380a653535376235343564333837383334
      64303438613765383035323336613537353831383735393266663165653863386530383564336130
      6566346339366564310a626163396363623736636436343962316364393364336237356335393462
      38363733316433633639396463643732613933366438623935343632323763323632373732646262
      3736373330323139626133373831376437646631346166663461
      """;

  private VaultSamples() {}

  /**
   * {@code plain} encrypted as a whole file by the real {@code ansible-vault encrypt} with the
   * password in {@code passwordFile}, through a scratch file in {@code dir}.
   */
  static String encrypt(java.nio.file.Path dir, java.nio.file.Path passwordFile, String plain) throws Exception {
    java.nio.file.Path f = java.nio.file.Files.createTempFile(dir, "vault-", ".txt");
    java.nio.file.Files.writeString(f, plain);
    Process p = new ProcessBuilder("ansible-vault", "encrypt", "--vault-password-file", passwordFile.toString(),
        f.toString()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("ansible-vault encrypt failed: " + said);
    }
    String text = java.nio.file.Files.readString(f);
    java.nio.file.Files.delete(f);
    return text;
  }
}

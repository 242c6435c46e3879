package dev.gitops.ansible.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The inline {@code !vault} values ({@code ansible-vault encrypt_string}) of the inventory's and the
 * playbook directory's files, with the file, line and variable that hold each, and the playbook
 * directory's whole vault-encrypted files ({@code ansible-vault encrypt}: a {@code group_vars} or
 * {@code vars_files} file, say): Ansible decrypts an inline value only when a task uses it, and
 * then says "Decryption failed (no vault secrets were found that could decrypt)" naming neither
 * the value nor its file; without a password it names no file either ("Attempting to decrypt but
 * no vault secrets found"). {@link #explain} finds which of a host's values (and of the playbook
 * directory's values and files) the vault password does not decrypt, and says where they are. Only
 * names and places are ever given, never a value. (The inventory's whole vault files are decrypted
 * by the parser, and reach Ansible decrypted in the managed inventory.)
 */
public final class InlineVaults {

  /** What Ansible says when it cannot decrypt a vault value: a wrong password, or none given. */
  private static final List<String> ANSIBLE_SAYS = List.of("Decryption failed",
      "Attempting to decrypt but no vault secrets found", "A vault password must be specified to decrypt data");

  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");
  private static final int MAX_NAMED = 5;

  /**
   * One inline vault value.
   *
   * @param file the repository's file
   * @param line the line of its key (1-based)
   * @param variable the key it is the value of ("" when the line has none)
   */
  public record Place(String file, int line, String variable) {
    @Override
    public String toString() {
      return (variable.isEmpty() ? "a !vault value" : "'" + variable + "'") + " at " + file + ":" + line;
    }
  }

  /** Where each value is, by its payload (the hex lines after the header, joined). */
  private final Map<String, List<Place>> places;
  /** The values of the playbook's directory: its group_vars, host_vars, vars files and plays. */
  private final Map<String, String> playbookValues;
  /** The playbook directory's whole vault-encrypted files: repository path to content. */
  private final Map<String, String> playbookFiles;

  private InlineVaults(Map<String, List<Place>> places, Map<String, String> playbookValues,
      Map<String, String> playbookFiles) {
    this.places = places;
    this.playbookValues = playbookValues;
    this.playbookFiles = playbookFiles;
  }

  /**
   * The inline vault values of {@code inventoryFiles} and {@code playbookFiles} (repository path to
   * content), and the whole vault-encrypted files of {@code playbookFiles}.
   */
  public static InlineVaults scan(Map<String, byte[]> inventoryFiles, Map<String, byte[]> playbookFiles) {
    Map<String, List<Place>> places = new LinkedHashMap<>();
    Map<String, String> playbookValues = new LinkedHashMap<>();
    Map<String, String> wholeFiles = new LinkedHashMap<>();
    inventoryFiles.forEach((path, content) -> scan(path, content, places, null, null));
    playbookFiles.forEach((path, content) -> scan(path, content, places, playbookValues, wholeFiles));
    return new InlineVaults(places, playbookValues, wholeFiles);
  }

  private static void scan(String path, byte[] content, Map<String, List<Place>> places, Map<String, String> values,
      Map<String, String> wholeFiles) {
    if (content.length == 0 || indexOf(content, "$ANSIBLE_VAULT;") < 0) {
      return;  // most files: no vault value
    }
    String[] lines = new String(content, StandardCharsets.UTF_8).split("\\R", -1);
    int first = 0;
    while (first < lines.length && lines[first].isBlank()) {
      first++;
    }
    if (wholeFiles != null && first < lines.length && lines[first].strip().startsWith("$ANSIBLE_VAULT;")) {
      // ansible-vault encrypt's file: Ansible decrypts all of it when it loads it, with the run's password
      wholeFiles.put(path, new String(content, StandardCharsets.UTF_8));
      return;
    }
    for (int i = first + 1; i < lines.length; i++) {
      String header = lines[i].strip();
      if (!header.startsWith("$ANSIBLE_VAULT;")) {
        continue;  // the file's own first line would be a whole vault-encrypted file: not inline
      }
      StringBuilder payload = new StringBuilder();
      int j = i + 1;
      while (j < lines.length && HEX.matcher(lines[j].strip()).matches()) {
        payload.append(lines[j].strip());
        j++;
      }
      int keyLine = i - 1;
      while (keyLine > 0 && lines[keyLine].isBlank()) {
        keyLine--;
      }
      boolean tagged = lines[keyLine].contains("!vault");
      String variable = tagged ? key(lines[keyLine]) : "";
      Place place = new Place(path, (tagged ? keyLine : i) + 1, variable);
      places.computeIfAbsent(payload.toString(), p -> new ArrayList<>()).add(place);
      if (values != null) {
        values.put(payload.toString(), header + "\n" + payload);
      }
      i = j - 1;
    }
  }

  /** The key of a YAML line "  name: !vault |" ("- name: …" too), or "". */
  private static String key(String line) {
    String s = line.strip();
    if (s.startsWith("- ")) {
      s = s.substring(2).strip();
    }
    int colon = s.indexOf(':');
    if (colon <= 0) {
      return "";
    }
    String k = s.substring(0, colon).strip();
    if (k.length() >= 2 && (k.startsWith("\"") && k.endsWith("\"") || k.startsWith("'") && k.endsWith("'"))) {
      k = k.substring(1, k.length() - 1);
    }
    return k;
  }

  private static int indexOf(byte[] content, String what) {
    byte[] w = what.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i + w.length <= content.length; i++) {
      for (int j = 0; j < w.length; j++) {
        if (content[i + j] != w[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Whether {@code message} (a task's or a run's) is Ansible failing to decrypt a vault value. */
  public static boolean isDecryptionFailure(String message) {
    return ANSIBLE_SAYS.stream().anyMatch(message::contains);
  }

  /**
   * Which vault values and files Ansible could not decrypt for a host, when {@code message} says it
   * could not decrypt one: the values of {@code hostVars} (the host's variables) and of the
   * playbook's directory, and the playbook directory's whole vault-encrypted files, that {@code
   * decryptor} (the password of {@code passwordFile}) does not decrypt, or all of them when no
   * password is configured ({@code passwordFile} null), each value with its variable, file and
   * line, each file by its repository path; "" when the message is about something else or every
   * one decrypts. Whether the password decrypts a file is told by the file's HMAC-SHA256 (keyed
   * from the password by PBKDF2, as {@link VaultFiles#decrypt} checks it before it decrypts).
   */
  public String explain(String message, String host, JsonNode hostVars, Path passwordFile,
      Function<String, String> decryptor) {
    if (!isDecryptionFailure(message)) {
      return "";
    }
    // payload -> vault text, the host's first (with the variable holding each), then the playbook directory's
    Map<String, String> candidates = new LinkedHashMap<>();
    Map<String, String> variableOf = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = hostVars.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Map<String, String> mine = new LinkedHashMap<>();
      collect(e.getValue(), mine);
      mine.forEach((payload, text) -> {
        candidates.putIfAbsent(payload, text);
        variableOf.putIfAbsent(payload, e.getKey());
      });
    }
    playbookValues.forEach(candidates::putIfAbsent);
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<String, String> c : candidates.entrySet()) {
      // tried each time: the password file may have been corrected since the last failure
      String problem = passwordFile == null ? "no password" : decrypts(c.getValue(), decryptor);
      if (problem.isEmpty()) {
        continue;
      }
      List<Place> at = places.getOrDefault(c.getKey(), List.of());
      String variable = variableOf.get(c.getKey());
      String where = at.isEmpty() ? "'" + variable + "' (a variable of " + host + ", in a file the provider could not"
          + " place)" : String.join(", ", at.stream().map(p -> variable != null && p.variable().isEmpty()
              ? new Place(p.file(), p.line(), variable).toString() : p.toString()).toList());
      wrong.add("the !vault value of " + where + because(problem));
    }
    int values = wrong.size();
    for (Map.Entry<String, String> f : playbookFiles.entrySet()) {
      // tried each time as well; the HMAC check is one PBKDF2 derivation per file (milliseconds)
      String problem = passwordFile == null ? "no password" : decrypts(f.getValue(), decryptor);
      if (!problem.isEmpty()) {
        wrong.add("the vault-encrypted file " + f.getKey() + because(problem));
      }
    }
    if (wrong.isEmpty()) {
      return "";
    }
    String named = String.join("; ", wrong.subList(0, Math.min(MAX_NAMED, wrong.size())))
        + (wrong.size() > MAX_NAMED ? "; and " + (wrong.size() - MAX_NAMED) + " more" : "");
    boolean files = wrong.size() > values;
    String tool = values == 0 ? "ansible-vault rekey" : !files ? "ansible-vault encrypt_string"
        : "ansible-vault encrypt_string for a value, ansible-vault rekey for a file";
    boolean one = wrong.size() == 1;
    return passwordFile == null
        ? "no vault password is configured (vaultPasswordFile, --vault-password-file) to decrypt " + named
        : "the vault password in " + passwordFile + " (vaultPasswordFile, --vault-password-file) is wrong for " + named
            + ": encrypt " + (one ? "it" : "them") + " again with that password (" + tool + "), or give the password "
            + (one ? "it was" : "they were") + " encrypted with";
  }

  /** What {@link #decrypts} found, said after the value or file it is about ("" for a wrong or missing password). */
  private static String because(String problem) {
    return problem.equals("wrong") || problem.equals("no password") ? "" : " (" + problem + ")";
  }

  /** The vault values under {@code node}, by payload. */
  private static void collect(JsonNode node, Map<String, String> out) {
    if (AnsibleYaml.isVault(node)) {
      String text = node.get(AnsibleYaml.VAULT_KEY).asText();
      String[] lines = text.strip().split("\\R");
      StringBuilder payload = new StringBuilder();
      for (int i = 1; i < lines.length; i++) {
        payload.append(lines[i].strip());
      }
      out.putIfAbsent(payload.toString(), text);
      return;
    }
    for (JsonNode child : node) {
      collect(child, out);
    }
  }

  /** "" when {@code decryptor} decrypts {@code vaultText}; "wrong" for a wrong password; else why not. */
  private static String decrypts(String vaultText, Function<String, String> decryptor) {
    try {
      decryptor.apply(vaultText);
      return "";
    } catch (IllegalArgumentException e) {
      return String.valueOf(e.getMessage()).startsWith("HMAC mismatch") ? "wrong" : String.valueOf(e.getMessage());
    } catch (UncheckedIOException e) {
      return e.getMessage();
    }
  }
}

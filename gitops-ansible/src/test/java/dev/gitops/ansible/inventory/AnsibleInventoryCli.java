package dev.gitops.ansible.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ansible-inventory --list} and compares JSON the way Python wrote it. */
final class AnsibleInventoryCli {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AnsibleInventoryCli() {}

  /** {@code ansible-inventory -i source --list [--export]}, parsed; fails naming stderr on a non-zero exit. */
  static JsonNode list(Path source, boolean export) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ansible-inventory", "-i", source.toString(), "--list"));
    if (export) {
      cmd.add("--export");
    }
    Path work = Files.createTempDirectory("ansible-inventory-");
    // stderr to a file: a full pipe must not block the process while stdout is read
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectError(work.resolve("stderr").toFile());
    Map<String, String> env = pb.environment();
    env.put("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true");
    env.put("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true");
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_LOCAL_TEMP", work.resolve("tmp").toString());
    env.put("ANSIBLE_DEPRECATION_WARNINGS", "false");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("ansible-inventory is not installed; install ansible-core (apt-get install -y"
          + " ansible-core, as .ci/run does) to run the differential tests", e);
    }
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("ansible-inventory failed on " + source + ": "
          + Files.readString(work.resolve("stderr"), StandardCharsets.UTF_8));
    }
    return JSON.readTree(out);
  }

  /**
   * Where two JSON trees differ, or null: numbers compare by kind and value (Python prints 1 and
   * 1.0 differently), object keys in any order, arrays in order.
   */
  static String difference(String path, JsonNode want, JsonNode got) {
    if (want == null || got == null) {
      return want == got ? null : path + ": want " + want + ", got " + got;
    }
    if (want.isNumber() && got.isNumber()) {
      if (want.isIntegralNumber() != got.isIntegralNumber()) {
        return path + ": want " + want + ", got " + got + " (int vs float)";
      }
      boolean same = want.isIntegralNumber() ? want.bigIntegerValue().equals(got.bigIntegerValue())
          : want.doubleValue() == got.doubleValue();
      return same ? null : path + ": want " + want + ", got " + got;
    }
    if (want.getNodeType() != got.getNodeType()) {
      return path + ": want " + want + ", got " + got;
    }
    if (want.isObject()) {
      for (Iterator<String> it = want.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        String d = difference(path + "/" + k, want.get(k), got.get(k));
        if (d != null) {
          return d;
        }
      }
      for (Iterator<String> it = got.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!want.has(k)) {
          return path + "/" + k + ": unexpected " + got.get(k);
        }
      }
      return null;
    }
    if (want.isArray()) {
      if (want.size() != got.size()) {
        return path + ": want " + want + ", got " + got;
      }
      for (int i = 0; i < want.size(); i++) {
        String d = difference(path + "/" + i, want.get(i), got.get(i));
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    return want.equals(got) ? null : path + ": want " + want + ", got " + got;
  }
}

package dev.gitops.ansible.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ansible-inventory --list}. */
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

}

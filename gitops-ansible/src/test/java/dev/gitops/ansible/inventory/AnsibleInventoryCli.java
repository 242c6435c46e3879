package dev.gitops.ansible.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs the real {@code ansible-inventory --list}. */
final class AnsibleInventoryCli {

  private static final ObjectMapper JSON = new ObjectMapper();

  private AnsibleInventoryCli() {}

  /**
   * {@code ansible-inventory -i source --list [--export]}, parsed; fails naming stderr on a non-zero
   * exit. The process runs in a temporary directory of its own (its stderr, Ansible's local temp),
   * deleted when it returns: the differential properties call this once per try.
   */
  static JsonNode list(Path source, boolean export) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("ansible-inventory", "-i", source.toString(), "--list"));
    if (export) {
      cmd.add("--export");
    }
    Path work = Files.createTempDirectory("ansible-inventory-");
    try {
      return run(cmd, source, work);
    } finally {
      deleteTree(work);
    }
  }

  private static JsonNode run(List<String> cmd, Path source, Path work) throws IOException, InterruptedException {
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
      // dead before its directory is deleted, so that it writes nothing there afterwards
      p.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException("ansible-inventory failed on " + source + ": "
          + Files.readString(work.resolve("stderr"), StandardCharsets.UTF_8));
    }
    return JSON.readTree(out);
  }

  /** Deletes {@code dir} and everything under it, as far as it can. */
  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // what is left fails no test, and must not hide what the run itself threw
    }
  }
}

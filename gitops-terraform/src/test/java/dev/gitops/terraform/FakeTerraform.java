package dev.gitops.terraform;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for the terraform (or tofu) binary: a bash script the test installs, which records
 * each call and replays outputs recorded in Terraform's documented formats (see {@code
 * fake-terraform.sh}). No real binary is ever run by these tests.
 *
 * <pre>{@code
 * FakeTerraform tf = FakeTerraform.install(tmp, "terraform");
 * tf.respond("plan", 2, "plan-create.jsonl");           // exit 2, stream from the resource
 * tf.respondStdout("show-plan", "plan-create.json");
 * TerraformProvider p = tf.provider(tmp.resolve("work")).build();
 * }</pre>
 */
final class FakeTerraform {

  static final ObjectMapper JSON = new ObjectMapper();

  final Path binary;
  final Path scenario;

  private FakeTerraform(Path binary, Path scenario) {
    this.binary = binary;
    this.scenario = scenario;
  }

  /** Installs the stand-in as {@code name} in {@code dir/bin}, with its scenario in {@code dir/scenario}. */
  static FakeTerraform install(Path dir, String name) {
    try {
      Path bin = Files.createDirectories(dir.resolve("bin"));
      Path scenario = Files.createDirectories(dir.resolve("scenario").resolve("responses")).getParent();
      Path exe = bin.resolve(name);
      Files.writeString(exe, resource("fake-terraform.sh"));
      Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
      FakeTerraform f = new FakeTerraform(exe, scenario);
      f.respondStdout("version", "{\"terraform_version\":\"" + (name.startsWith("tofu") ? "1.8.0" : "1.9.5")
          + "\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}");
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A builder of a provider running this stand-in in {@code workDir}. */
  TerraformProvider.Builder provider(Path workDir) {
    return TerraformProvider.builder(workDir).binary(binary.toString())
        .environment("FAKE_TF_SCENARIO", scenario.toString());
  }

  static String resource(String name) {
    try (InputStream in = FakeTerraform.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path dir(String command) {
    try {
      return Files.createDirectories(scenario.resolve("responses").resolve(command));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private FakeTerraform write(String command, String file, String content) {
    try {
      Files.writeString(dir(command).resolve(file), content);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every call of {@code command} (or, as {@code command.n}, its n-th call) prints {@code text}. */
  FakeTerraform respondStdout(String command, String text) {
    return write(command, "stdout", text);
  }

  /** Prints the test resource {@code name} on standard output. */
  FakeTerraform respondResource(String command, String name) {
    return respondStdout(command, resource(name));
  }

  /** Exits with {@code code}, printing the resource {@code stream} (null: nothing). */
  FakeTerraform respond(String command, int code, String stream) {
    if (stream != null) {
      respondResource(command, stream);
    }
    return write(command, "exit", Integer.toString(code));
  }

  /** Prints {@code text} on standard error. */
  FakeTerraform respondStderr(String command, String text) {
    return write(command, "stderr", text);
  }

  /** Writes the resource {@code state} to ./terraform.tfstate after answering (as an apply would). */
  FakeTerraform writesState(String command, String state) {
    return write(command, "state", resource(state));
  }

  /** Writes {@code state} (a state file's text) to ./terraform.tfstate after answering (as {@code state rm} would). */
  FakeTerraform writesStateText(String command, String state) {
    return write(command, "state", state);
  }

  /** {@code init} makes no {@code .terraform/}, as Terraform's for built-in providers only and no modules. */
  FakeTerraform initMakesNoDataDirectory() {
    return write("init", "no-data-dir", "");
  }

  /** Sleeps {@code seconds} before answering (a hanging binary). */
  FakeTerraform sleeps(String command, double seconds) {
    return write(command, "sleep", Double.toString(seconds));
  }

  /** The recorded calls, oldest first. */
  List<JsonNode> calls() {
    Path log = scenario.resolve("calls.jsonl");
    List<JsonNode> out = new ArrayList<>();
    try {
      if (!Files.exists(log)) {
        return out;
      }
      for (String line : Files.readAllLines(log)) {
        out.add(JSON.readTree(line));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The commands called, in order ({@code version}, {@code init}, {@code plan}, {@code show-plan}, ...). */
  List<String> commands() {
    return calls().stream().map(c -> c.path("command").asText()).toList();
  }

  /** The argument lists of the calls of {@code command}. */
  List<List<String>> argv(String command) {
    List<List<String>> out = new ArrayList<>();
    for (JsonNode c : calls()) {
      if (c.path("command").asText().equals(command)) {
        List<String> a = new ArrayList<>();
        c.path("argv").forEach(x -> a.add(x.asText()));
        out.add(a);
      }
    }
    return out;
  }

  /** The last call of {@code command}. */
  JsonNode last(String command) {
    JsonNode found = null;
    for (JsonNode c : calls()) {
      if (c.path("command").asText().equals(command)) {
        found = c;
      }
    }
    if (found == null) {
      throw new AssertionError("no call of " + command + " among " + commands());
    }
    return found;
  }
}

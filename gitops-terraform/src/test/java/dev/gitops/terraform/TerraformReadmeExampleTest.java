package dev.gitops.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gitops.testkit.TempGitRepo;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiles and runs the root README's Terraform example against the stand-in binary, so it cannot rot. */
class TerraformReadmeExampleTest {

  @TempDir
  Path tmp;

  @Test
  void theReadmeTerraformExampleCompilesStopsForApprovalAndFeedsTheOutputToAFile() throws Exception {
    String text = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("README.md"));
    Matcher block = Pattern.compile("```java\\n((?:import [^\\n]+\\n)+)\\n// readme-terraform: begin\\n(.*?)"
        + "// readme-terraform: end", Pattern.DOTALL).matcher(text);
    assertThat(block.find()).as("README has a java block with readme-terraform markers").isTrue();
    String source = block.group(1) + "import java.nio.file.Path;\n\npublic class TerraformReadme {\n"
        + "  public static Object run(Path repository, Path workDir, Path target, Path state, String binary) throws Exception {\n"
        + block.group(2) + "    return result;\n  }\n}\n";
    Path src = Files.createDirectories(tmp.resolve("src")).resolve("TerraformReadme.java");
    Files.writeString(src, source, StandardCharsets.UTF_8);
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertThat(javac.run(null, null, null, "-cp", System.getProperty("java.class.path"), "-d", classes.toString(),
        src.toString())).as("the example compiles:\n" + source).isZero();

    FakeTerraform fake = FakeTerraform.install(tmp, "terraform");
    fake.respond("plan", 2, "plan-create.jsonl").respondResource("show-plan", "plan-create.json")
        .respond("apply", 0, "apply-create.jsonl").writesState("apply", "state-after.tfstate");
    // The example names a binary only: a wrapper hands the stand-in its scenario.
    Path wrapper = tmp.resolve("bin/tofu");
    Files.writeString(wrapper, "#!/usr/bin/env bash\nFAKE_TF_SCENARIO='" + fake.scenario + "' exec '" + fake.binary
        + "' \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path target = Files.createDirectories(tmp.resolve("target"));
    try (TempGitRepo repo = TempGitRepo.create()) {
      repo.write("infra/main.tf", TerraformProviderTest.MAIN_TF);
      repo.write("app.conf", "pet=${outputs:tf:output::name:value}\n");
      repo.commit("infra and app");
      try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
        Method run = loader.loadClass("TerraformReadme").getMethod("run", Path.class, Path.class, Path.class,
            Path.class, String.class);
        Object result = run.invoke(null, repo.dir(), tmp.resolve("work"), target, tmp.resolve("state"),
            wrapper.toString());
        assertThat(result.getClass().getMethod("isSuccessful").invoke(result)).as("%s", result).isEqualTo(true);
      }
    }
    assertThat(fake.argv("plan")).as("the approved plan is not made again").hasSize(1);
    assertThat(fake.argv("apply")).hasSize(1);
    assertThat(Files.readString(target.resolve("app.conf"))).isEqualTo("pet=happy-cat\n");
    assertThat(target.resolve("infra")).as("Terraform's configuration is not a file of the files provider")
        .doesNotExist();
  }
}

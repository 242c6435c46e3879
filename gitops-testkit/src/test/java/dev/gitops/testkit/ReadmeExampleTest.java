package dev.gitops.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiles and runs the embedding example of the README, so that it cannot rot. */
class ReadmeExampleTest {

  @TempDir Path tmp;

  @Test
  void readmeEmbeddingExampleCompilesAndSyncsARepository() throws Exception {
    Path readme = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
    String text = Files.readString(readme);
    Matcher imports = Pattern.compile("```java\\n((?:import [^\\n]+\\n)+)").matcher(text);
    assertThat(imports.find()).as("README's embedding block starts with imports").isTrue();
    Matcher body = Pattern.compile("// readme-example: begin\\n(.*?)// readme-example: end", Pattern.DOTALL).matcher(text);
    assertThat(body.find()).as("README has readme-example markers").isTrue();

    String source = imports.group(1) + "import java.nio.file.Path;\n\npublic class ReadmeExample {\n"
        + "  public static Object run(Path repository, Path target, Path state) throws Exception {\n"
        + body.group(1) + "    return result;\n  }\n}\n";
    Class<?> example = JavaSnippets.compile(tmp, "ReadmeExample", source);

    try (TempGitRepo repo = TempGitRepo.create()) {
      repo.write("app/settings.conf", "level=debug\n");
      repo.write("motd.txt", "hello\n");
      repo.commit("initial");
      Path target = Files.createDirectories(tmp.resolve("target"));
      Path state = tmp.resolve("target/.gitops");
      Method run = example.getMethod("run", Path.class, Path.class, Path.class);
      Object result = run.invoke(null, repo.dir(), target, state);
      assertThat(result.getClass().getMethod("isSuccessful").invoke(result)).isEqualTo(true);
      assertThat(Files.readString(target.resolve("app/settings.conf"))).isEqualTo("level=debug\n");
      assertThat(Files.readString(target.resolve("motd.txt"))).isEqualTo("hello\n");
      assertThat(List.of(new File(state.toString()).list())).isNotEmpty();
    }
  }
}
